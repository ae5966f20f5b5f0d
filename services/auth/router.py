"""`/auth`: legacy's session endpoints (same contract) and the token endpoints.

Legacy contract (legacy_flask/auth/routes.py, byte for byte):
    POST /auth/login     JSON or form -> MVidarr's login answer + the `mvidarr_session` cookie
    POST /auth/logout    revokes the session row (and any refresh family / token of the caller)
    GET  /auth/check     {"authenticated": bool, "user"?}
    GET  /auth/session   the session row, user and permissions, or the legacy 401

New (structured errors):
    POST /auth/token             username + password (JSON or form) -> access token + refresh cookie
    POST /auth/refresh           refresh cookie -> new access token, rotated refresh cookie
    GET  /auth/me                the caller, their effective role and how they authenticated
    POST /auth/session-exchange  a valid legacy session cookie -> tokens
    POST|GET /auth/api-keys, DELETE /auth/api-keys/{id}      admin: integration keys
    PUT  /auth/users/{id}/role   admin: change a user's role

Handlers that refuse after writing (failed-login count, revoked family, audit row) return
their error response instead of raising it, so the request's transaction still commits.

One module per concept (session_routes, token_routes, api_key_routes, user_admin_routes; shared
helpers in _route_support); this module mounts them under one router.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.auth import api_key_routes, session_routes, token_routes, user_admin_routes

# One router per concept, included in the order the routes were always listed.
router = APIRouter(prefix="/auth", tags=["auth"])
router.include_router(session_routes.router)
router.include_router(token_routes.router)
router.include_router(api_key_routes.router)
router.include_router(user_admin_routes.router)
