"""Who may call what: the route walk, the role matrix, API keys, role changes, headers, CORS."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import insert, select

from legacy_flask.models import Setting
from services.app import create_app
from services.auth.access import CAN_DELETE, CAN_MODIFY, require_role, route_rules
from services.auth.current_user import CurrentUserDep
from services.auth.models import ApiKey, AuditEntry
from services.models import UserRole
from services.settings import Settings
from tests.services._auth_support import (
    PASSWORD,
    USERS,
    Services,
    serve,
    services_fixture,
    users_db_fixture,
)
from tests.support.servers import uvicorn_thread

__all__ = ["services_fixture", "users_db_fixture"]  # fixtures used by name

AUTH_REQUIRED = {"error": "Authentication required", "code": "AUTH_REQUIRED"}
INSUFFICIENT = {"error": "Insufficient permissions", "code": "INSUFFICIENT_PERMISSIONS"}
ROLE_ORDER = ["readonly", "user", "manager", "admin"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_services_route_states_its_access_rule() -> None:
    rules = route_rules(create_app(Settings(database_url="sqlite:///:memory:")))
    assert len(rules) > 20
    missing = sorted(route for route, found in rules.items() if not found)
    assert missing == [], f"routes without an access rule: {missing}"


def test_auth_routes_state_the_expected_rules() -> None:
    rules = route_rules(create_app(Settings(database_url="sqlite:///:memory:")))
    assert rules["POST /auth/login"] == ["public"]
    assert rules["GET /auth/me"] == ["authenticated"]
    assert rules["GET /auth/session"] == ["legacy session"]
    assert rules["POST /auth/api-keys"] == ["role>=ADMIN"]
    assert rules["PUT /auth/users/{user_id}/role"] == ["role>=ADMIN"]
    assert "login when require_authentication is on" in rules["GET /api/videos/"]


def test_role_matrix_for_every_role_protected_route(services: Services) -> None:
    tokens = {name: services.login_token(name) for name in USERS}
    rules = route_rules(create_app(services.settings))
    protected = {route: found for route, found in rules.items() if any(r.startswith("role>=") for r in found)}
    assert protected
    for route, found in protected.items():
        method, path = route.split(" ", 1)
        needed = next(r for r in found if r.startswith("role>=")).removeprefix("role>=").lower()
        services.client.cookies.clear()
        anonymous = services.client.request(method, _concrete(path), json={})
        assert anonymous.status_code == 401, route
        for name in ROLE_ORDER:
            services.client.cookies.clear()
            response = services.client.request(
                method, _concrete(path), json={}, headers=_bearer(tokens[name])
            )
            allowed = ROLE_ORDER.index(name) >= ROLE_ORDER.index(needed)
            if allowed:
                assert response.status_code not in (401, 403), (route, name, response.text)
            else:
                assert response.status_code == 403, (route, name)
                error = response.json()["error"]
                if path.startswith("/api/"):  # migrated routes refuse with legacy's body
                    assert response.json() == INSUFFICIENT, route
                else:
                    assert error["code"] == "insufficient_permissions"


def test_migrated_routes_follow_require_authentication_for_every_credential(users_db: str) -> None:
    with serve(users_db, settings_cache_ttl=0) as s:
        with s.engine.begin() as conn:
            conn.execute(insert(Setting).values(key="require_authentication", value="true"))
        token = s.login_token("readonly")
        s.client.cookies.clear()
        guarded = [
            route
            for route, found in route_rules(create_app(s.settings)).items()
            if "login when require_authentication is on" in found and route.startswith("GET ")
        ]
        assert len(guarded) >= 5
        for route in guarded:
            path = _concrete(route.split(" ", 1)[1])
            s.client.cookies.clear()
            denied = s.client.get(path)
            assert (denied.status_code, denied.json()) == (401, AUTH_REQUIRED), route
            s.client.cookies.clear()
            assert s.client.get(path, headers=_bearer(token)).status_code != 401, route
        # Legacy-session login works on migrated routes too.
        s.client.post("/auth/login", json={"username": "user", "password": PASSWORD})
        assert s.client.get("/api/videos/").status_code == 200


def test_playlists_know_a_token_caller_without_a_flask_session(services: Services) -> None:
    token = services.login_token("user")
    services.client.cookies.clear()
    listed = services.client.get("/api/playlists/", headers=_bearer(token))
    assert listed.status_code == 200
    services.client.cookies.clear()
    anonymous = services.client.get("/api/playlists/")
    assert (anonymous.status_code, anonymous.json()) == (401, {"error": "User not found"})


def test_api_key_is_shown_once_stored_hashed_and_acts_with_its_role(services: Services) -> None:
    admin = _bearer(services.login_token("admin"))
    created = services.client.post("/auth/api-keys", json={"name": "ci", "role": "USER"}, headers=admin)
    assert created.status_code == 201
    body = created.json()
    key = body["key"]
    assert body["role"] == "USER" and body["user_id"] == 1 and key.startswith(body["prefix"])
    stored = services.rows(select(ApiKey.key_hash, ApiKey.last_used_at))
    assert stored[0].key_hash != key and stored[0].last_used_at is None
    listed = services.client.get("/auth/api-keys", headers=admin).json()["api_keys"]
    assert [k["name"] for k in listed] == ["ci"] and "key" not in listed[0]
    services.client.cookies.clear()
    me = services.client.get(
        "/auth/me",
        headers={"X-API-Key": key},
    )
    assert me.json()["auth"] == "api_key" and me.json()["role"] == "USER"
    assert services.rows(select(ApiKey.last_used_at, ApiKey.last_used_ip))[0].last_used_ip == "127.0.0.1"
    # A USER-scoped key of an admin cannot administer.
    forbidden = services.client.get("/auth/api-keys", headers={"X-API-Key": key})
    assert forbidden.status_code == 403
    revoked = services.client.delete(f"/auth/api-keys/{body['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    services.client.cookies.clear()
    assert services.client.get("/auth/me", headers={"X-API-Key": key}).status_code == 401
    events = [r.event for r in services.rows(select(AuditEntry.event))]
    assert "api_key.created" in events and "api_key.revoked" in events


def test_api_key_role_never_exceeds_its_owner(services: Services) -> None:
    admin = _bearer(services.login_token("admin"))
    created = services.client.post(
        "/auth/api-keys", json={"name": "reader", "role": "ADMIN", "user_id": 4}, headers=admin
    )
    assert created.status_code == 201 and created.json()["role"] == "READONLY"
    services.client.cookies.clear()
    me = services.client.get("/auth/me", headers={"X-API-Key": created.json()["key"]}).json()
    assert me["user"]["username"] == "readonly" and me["role"] == "READONLY"


def test_api_key_errors(services: Services) -> None:
    admin = _bearer(services.login_token("admin"))
    missing_user = services.client.post(
        "/auth/api-keys", json={"name": "x", "role": "USER", "user_id": 99}, headers=admin
    )
    assert missing_user.status_code == 404
    invalid = services.client.post("/auth/api-keys", json={"name": "", "role": "KING"}, headers=admin)
    assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "validation_error"
    assert services.client.delete("/auth/api-keys/999", headers=admin).status_code == 404
    services.client.cookies.clear()
    unknown = services.client.get("/auth/me", headers={"X-API-Key": "fgw_made_up"})
    assert unknown.status_code == 401


def test_admin_changes_a_role_and_the_change_is_audited(services: Services) -> None:
    admin = _bearer(services.login_token("admin"))
    changed = services.client.put("/auth/users/3/role", json={"role": "MANAGER"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["user"]["role"] == "MANAGER"
    assert services.client.put("/auth/users/1/role", json={"role": "USER"}, headers=admin).status_code == 409
    assert services.client.put("/auth/users/99/role", json={"role": "USER"}, headers=admin).status_code == 404
    rows = services.rows(select(AuditEntry).where(AuditEntry.event == "role.changed"))
    assert len(rows) == 1 and rows[0].detail == {
        "target_user_id": 3,
        "old_role": "USER",
        "new_role": "MANAGER",
    }


def test_security_headers_on_services_responses(services: Services) -> None:
    response = services.client.get("/healthz")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in response.headers  # plain http
    assert "content-security-policy" not in response.headers  # JSON
    html = services.client.get("/api/settings")  # werkzeug's HTML redirect page
    assert html.status_code == 308 and "frame-ancestors 'none'" in html.headers["content-security-policy"]


def test_hsts_is_sent_over_https(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    # uvicorn takes the scheme from X-Forwarded-Proto of a trusted (local) proxy.
    with uvicorn_thread(app, proxy_headers=True, forwarded_allow_ips="127.0.0.1") as server:
        response = httpx.get(f"{server.url}/healthz", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_cors_allows_only_configured_origins_with_credentials(users_db: str) -> None:
    with serve(users_db, cors_origins=("https://app.example",)) as s:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization",
        }
        ok = s.client.options("/auth/token", headers={"Origin": "https://app.example", **preflight})
        assert ok.headers["access-control-allow-origin"] == "https://app.example"
        assert ok.headers["access-control-allow-credentials"] == "true"
        evil = s.client.options("/auth/token", headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in evil.headers


@pytest.mark.parametrize("name", ROLE_ORDER)
def test_permissions_follow_legacy_rules(services: Services, name: str) -> None:
    token = services.login_token(name)
    services.client.cookies.clear()
    permissions = services.client.get("/auth/me", headers=_bearer(token)).json()["permissions"]
    level = ROLE_ORDER.index(name)
    assert permissions == {
        "can_admin": level >= 2,
        "can_modify": level >= 1,
        "can_delete": level >= 2,
        "can_manage_users": level == 3,
    }


def _rules_router() -> APIRouter:
    router = APIRouter()

    @router.get("/api/rules/manager", dependencies=[require_role(UserRole.MANAGER)])
    async def manager_only() -> dict[str, bool]:
        return {"ok": True}

    @router.get("/api/rules/modify", dependencies=[CAN_MODIFY])
    async def modify() -> dict[str, bool]:
        return {"ok": True}

    @router.get("/api/rules/delete", dependencies=[CAN_DELETE])
    async def delete() -> dict[str, bool]:
        return {"ok": True}

    @router.get("/api/rules/login")
    async def login_required(user: CurrentUserDep) -> dict[str, str]:
        return {"user": user.username}

    @router.get("/new/rules/modify", dependencies=[CAN_MODIFY])
    async def new_modify() -> dict[str, bool]:
        return {"ok": True}

    return router


def test_rules_on_migrated_routes_answer_with_legacy_bodies(users_db: str) -> None:
    with serve(users_db, routers=[_rules_router()]) as s:
        tokens = {name: s.login_token(name) for name in USERS}
        s.client.cookies.clear()
        for path in ("/api/rules/manager", "/api/rules/modify", "/api/rules/delete", "/api/rules/login"):
            response = s.client.get(path)
            assert (response.status_code, response.json()) == (401, AUTH_REQUIRED), path
        expected = {
            "/api/rules/manager": {"readonly": 403, "user": 403, "manager": 200, "admin": 200},
            "/api/rules/modify": {"readonly": 403, "user": 200, "manager": 200, "admin": 200},
            "/api/rules/delete": {"readonly": 403, "user": 403, "manager": 200, "admin": 200},
            "/api/rules/login": {"readonly": 200, "user": 200, "manager": 200, "admin": 200},
        }
        for path, by_role in expected.items():
            for name, status in by_role.items():
                response = s.client.get(path, headers=_bearer(tokens[name]))
                assert response.status_code == status, (path, name)
                if status == 403:
                    assert response.json() == INSUFFICIENT
        new = s.client.get("/new/rules/modify", headers=_bearer(tokens["readonly"]))
        assert new.status_code == 403 and new.json()["error"]["code"] == "insufficient_permissions"
        assert s.client.get("/new/rules/modify").json()["error"]["code"] == "auth_required"


def test_routes_command_lists_every_route_with_its_rule(capsys: pytest.CaptureFixture[str]) -> None:
    from services.auth.__main__ import main

    assert main(["routes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("POST /auth/api-keys") and line.endswith("role>=ADMIN") for line in lines)
    assert not any(line.endswith("NO RULE") for line in lines)
    assert main(["nonsense"]) == 2
