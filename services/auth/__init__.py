"""Who is calling, and what they may do.

Callers are resolved by `current_user.get_principal`: every credential present (Bearer JWT,
`X-API-Key`, the legacy `mvidarr_session` cookie) is read, invalid ones are ignored as legacy
ignores them, and valid ones must name one user (docs/security.md). Routes state their rule with
a dependency from `access`:

    from services.auth import CurrentUserDep, require_role, PUBLIC
    router = APIRouter(prefix="/api/things", dependencies=[require_role(UserRole.MANAGER)])

Modules: `router` (the /auth endpoints), `service` (login, sessions, refresh tokens, API
keys), `tokens` (JWT and opaque secrets), `flask_session` (Flask's cookie format),
`passwords` (werkzeug hashes), `ratelimit` (reserve-first login throttle), `session_links`
(tokens live and die with their `user_sessions` row), `audit`, `middleware` (security headers),
`models` (auth tables, migration 0002), `setup` (`install_auth`).
"""

from services.auth.access import AUTHENTICATED, CAN_DELETE, CAN_MODIFY, PUBLIC, access_rule, require_role
from services.auth.current_user import (
    CurrentUserDep,
    OptionalUserDep,
    Principal,
    PrincipalDep,
    SessionUserDep,
)

__all__ = [
    "AUTHENTICATED",
    "CAN_DELETE",
    "CAN_MODIFY",
    "PUBLIC",
    "CurrentUserDep",
    "OptionalUserDep",
    "Principal",
    "PrincipalDep",
    "SessionUserDep",
    "access_rule",
    "require_role",
]
