"""The global login guard legacy runs before every `/api/` request.

Legacy (legacy_flask/app.py, like MVidarr's dynamic_auth_middleware) answers 401
`{"error":"Authentication required","code":"AUTH_REQUIRED"}` to any `/api/` request outside
`/api/health` when the setting `require_authentication` is "true" and nobody is logged in.
Every migrated router carries this dependency, so moving a route does not open it up.
"""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.responses import Response

from services._error_types import LegacyError
from services._legacy_json import LegacyJSONResponse
from services.app_settings.cache import SettingsCache
from services.auth.current_user import AUTH_REQUIRED_BODY, get_optional_user
from services.db import SessionDep

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


async def guard_answer(request: Request) -> Response | None:
    """The guard's 401 for a request no route took (legacy runs the guard before routing errors)."""
    path = request.url.path
    if not path.startswith("/api/") or path.startswith(EXEMPT_PREFIXES):
        return None
    async with request.app.state.sessionmaker() as session:
        try:
            await require_login_when_enabled(request, session)
        except LegacyError as exc:
            return LegacyJSONResponse(exc.body, status_code=exc.status_code)
    return None
