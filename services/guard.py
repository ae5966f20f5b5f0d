"""The global login guard legacy runs before every `/api/` request.

Legacy (legacy_flask/app.py, like MVidarr's dynamic_auth_middleware) answers 401
`{"error":"Authentication required","code":"AUTH_REQUIRED"}` to any `/api/` request outside
`/api/health` when the setting `require_authentication` is "true" and nobody is logged in.
Every migrated router carries this dependency, so moving a route does not open it up.
"""

from __future__ import annotations

from fastapi import Depends, Request

from services.app_settings.cache import SettingsCache
from services.auth.current_user import AUTH_REQUIRED_BODY, get_optional_user
from services.db import SessionDep
from services.errors import LegacyError

EXEMPT_PREFIXES = ("/api/health",)


async def require_login_when_enabled(request: Request, session: SessionDep) -> None:
    if request.url.path.startswith(EXEMPT_PREFIXES):
        return
    cache: SettingsCache = request.app.state.settings_cache
    if not await cache.get_bool(session, "require_authentication"):
        return
    if await get_optional_user(request, session) is None:
        raise LegacyError(401, AUTH_REQUIRED_BODY)


LEGACY_GUARD = Depends(require_login_when_enabled)
