"""Route guards, as MVidarr's src/utils/auth_decorators.py.

`current_user()` accepts a session only when the cookie is signed (Flask checks that), its
`user_sessions` row is ACTIVE and unexpired, and the user is active. The decorators answer
401 `{"error":"Authentication required","code":"AUTH_REQUIRED"}` and 403
`{"error":"Insufficient permissions","code":"INSUFFICIENT_PERMISSIONS"}`; like MVidarr they
also set `g.current_user` (MVidarr sets `request.current_user`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, jsonify, session

from legacy_flask.auth.service import find_valid_session
from legacy_flask.extensions import db
from legacy_flask.models import User, UserRole

F = TypeVar("F", bound=Callable[..., Any])

_UNSET = object()


def current_user() -> User | None:
    """The logged-in user of this request, or None (cached on `flask.g`)."""
    cached = g.get("_figway_user", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[no-any-return]
    user = None
    row = find_valid_session(db(), session.get("user_id"), session.get("session_token"))
    if row is not None:
        user = row.user
    g._figway_user = user
    return user


def auth_required_response() -> Any:
    return jsonify({"error": "Authentication required", "code": "AUTH_REQUIRED"}), 401


def insufficient_permissions_response() -> Any:
    return jsonify({"error": "Insufficient permissions", "code": "INSUFFICIENT_PERMISSIONS"}), 403


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            return auth_required_response()
        g.current_user = user
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def role_required(role: UserRole) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return auth_required_response()
            if not user.has_permission(role):
                return insufficient_permissions_response()
            g.current_user = user
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def admin_required(view: F) -> F:
    return role_required(UserRole.ADMIN)(view)


def manager_required(view: F) -> F:
    return role_required(UserRole.MANAGER)(view)
