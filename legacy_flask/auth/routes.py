"""`/auth` login, logout, check and session endpoints, as MVidarr's src/api/auth.py."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, session

from legacy_flask.auth.decorators import current_user, login_required
from legacy_flask.auth.service import (
    AuthError,
    authenticate,
    client_ip,
    create_session,
    find_valid_session,
    permissions,
    revoke_session,
    user_summary,
)
from legacy_flask.extensions import db

bp = Blueprint("auth", __name__)


def _credentials() -> tuple[str, str]:
    if request.is_json:
        body = request.get_json(silent=True) or {}
        if not isinstance(body, dict):
            body = {}
    else:
        body = request.form
    return str(body.get("username") or "").strip(), str(body.get("password") or "")


@bp.route("/login", methods=["POST"])
def login() -> Any:
    username, password = _credentials()
    if not username or not password:
        return jsonify({"error": "Username and password are required"}), 400
    ip = client_ip(request)
    try:
        user = authenticate(db(), username, password, ip)
    except AuthError as exc:
        return jsonify({"error": str(exc)}), 401
    row = create_session(db(), user, ip, request.headers.get("User-Agent"))
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["username"] = user.username
    session["role"] = user.role.value
    session["session_token"] = row.session_token
    return jsonify(
        {
            "success": True,
            "message": "Login successful",
            "user": user_summary(user),
            "session": {"token": row.session_token},
        }
    )


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    revoke_session(db(), session.get("session_token"))
    session.clear()
    return jsonify({"success": True, "message": "Logout successful"})


@bp.route("/check", methods=["GET"])
def check() -> Any:
    user = current_user()
    if user is None:
        return jsonify({"authenticated": False})
    return jsonify({"authenticated": True, "user": user.to_dict()})


@bp.route("/session", methods=["GET"])
def session_info() -> Any:
    row = find_valid_session(db(), session.get("user_id"), session.get("session_token"))
    if row is None:
        return jsonify({"error": "Authentication required", "code": "AUTH_REQUIRED"}), 401
    user = row.user
    return jsonify(
        {
            "session": {
                "id": row.id,
                "status": row.status.value,
                "ip_address": row.ip_address,
                "user_agent": row.user_agent,
                "created_at": row.created_at.isoformat() if row.created_at else None,
                "last_activity": row.last_activity.isoformat() if row.last_activity else None,
                "expires_at": row.expires_at.isoformat(),
            },
            "user": user.to_dict(),
            "permissions": permissions(user),
        }
    )
