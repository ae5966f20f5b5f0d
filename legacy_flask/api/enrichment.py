"""Metadata enrichment, as MVidarr's src/api/metadata_enrichment.py (+ the video refresh route).

`POST /api/metadata-enrichment/enrich/<artist_id>[?force=true]` and
`POST /api/videos/<video_id>/refresh-metadata`. The artist route drives the async service
through `asyncio.new_event_loop()` per request, a wart MVidarr has: the coroutine only makes
blocking `requests` calls, so the event loop buys nothing but overhead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from flask import Blueprint, jsonify, request

from legacy_flask.enrichment_service import ArtistNotFound, enrich_artist_metadata, refresh_video_metadata
from legacy_flask.extensions import db
from legacy_flask.models import Video

bp = Blueprint("enrichment", __name__)

_TRUE = {"true", "1", "yes"}


@bp.route("/metadata-enrichment/enrich/<int:artist_id>", methods=["POST"])
def enrich_artist(artist_id: int) -> Any:
    force = request.args.get("force", "").lower() in _TRUE
    body = request.get_json(silent=True)
    if isinstance(body, dict) and body.get("force_refresh") is True:
        force = True
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        result = loop.run_until_complete(enrich_artist_metadata(db(), artist_id, force))
    except ArtistNotFound:
        return jsonify({"error": "Artist not found"}), 404
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return jsonify(result.to_dict())


@bp.route("/videos/<int:video_id>/refresh-metadata", methods=["POST"])
def refresh_metadata(video_id: int) -> Any:
    session = db()
    video = session.get(Video, video_id)
    if video is None:
        return jsonify({"error": "Video not found"}), 404
    result = refresh_video_metadata(session, video)
    data = result.to_dict()
    data.pop("artist_id")
    data.pop("skipped")
    message = (
        f"Metadata refreshed from {', '.join(result.sources_used)}"
        if result.sources_used
        else "No metadata found for this video"
    )
    return jsonify(
        {
            **data,
            "video_id": video.id,
            "message": message,
            "video": {
                "id": video.id,
                "title": video.title,
                "imvdb_id": video.imvdb_id,
                "year": video.year,
                "duration": video.duration,
                "genres": video.genres or [],
                "directors": video.directors or [],
                "youtube_id": video.youtube_id,
                "thumbnail_url": video.thumbnail_url,
            },
        }
    )
