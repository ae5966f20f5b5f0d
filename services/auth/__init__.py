"""Who is calling, and what they may do.

Callers are resolved by `current_user.get_principal` (Bearer JWT, then `X-API-Key`, then the
legacy `mvidarr_session` cookie); routes state their rule with a dependency from `access`:

    from services.auth import CurrentUserDep, require_role, PUBLIC
    router = APIRouter(prefix="/api/things", dependencies=[require_role(UserRole.MANAGER)])

Modules: `router` (the /auth endpoints), `service` (login, sessions, refresh tokens, API
keys), `tokens` (JWT and opaque secrets), `flask_session` (Flask's cookie format),
`passwords` (werkzeug hashes), `ratelimit`, `audit`, `middleware` (security headers),
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
