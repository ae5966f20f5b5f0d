"""`/api/videos` with the legacy contract (legacy_flask/api/videos.py).

Pagination is `limit`/`offset` (no limit: every row), sorting `sort`/`order` (an unknown key
sorts by title), statuses are the uppercase enum names, and a query value `int()` refuses
falls back to its default, exactly as legacy's `request.args.get(..., type=int)`.

One module per concept: listing_routes (list, search), item_routes (create, read, update,
status, delete), render (legacy's `video_dict`); this module mounts them in the old order.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.guard import LEGACY_GUARD
from services.videos import item_routes, listing_routes
from services.videos.render import video_dict as video_dict
from services.videos.render import video_dicts as video_dicts

router = APIRouter(prefix="/api/videos", tags=["videos"], dependencies=[LEGACY_GUARD])
router.include_router(listing_routes.router)
router.include_router(item_routes.router)
