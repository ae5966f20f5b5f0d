"""The auth attacks, sent through the gateway: what a forger can try against the services' JWTs
and the legacy session cookie is refused the same way when the gateway sits in between, and
the gateway adds no way around the services' own defences (forwarded-address spoofing against
the login rate limit, forcing a rollout side, hop-by-hop tricks that drop Authorization).

Real servers: legacy (werkzeug), services (uvicorn) on one SQLite database, the gateway in front.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jose import jwt

from legacy_flask.app import create_app as create_legacy_app
from legacy_flask.extensions import ENGINE_KEY
from services.app import create_app as create_services_app
from services.settings import Settings
from tests.contract.harness import prepare_database, session_cookie
from tests.gateway.proxy_support import gateway_server, table_yaml
from tests.support.databases import async_url
from tests.support.servers import uvicorn_thread, wsgi_thread

PASSWORD = "Figway-demo-1"
SECRET = "gateway-attack-jwt-secret"
ROUTES = """
  - id: auth-services
    path: /auth/{rest:path}
    methods: [GET, POST, PUT, DELETE]
    to: services
  - id: playlists
    path: /api/playlists/{rest:path}
    to: services
  - id: settings
    path: /api/settings/{key}
    methods: [GET]
    target: services
    rollout: [{from: "2020-01-06T00:00:00", mode: canary, percent: 50}]
"""


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("auth-attacks")
    url = f"sqlite+pysqlite:///{tmp / 'figway.db'}"
    prepare_database(url)
    legacy_app = create_legacy_app({"DATABASE_URL": url, "TESTING": True})
    settings = Settings(
        database_url=async_url(url),
        refresh_cookie_secure=False,
        jwt_secret=SECRET,
        login_rate_limit_attempts=5,
        login_delay_base_seconds=60,  # the 6th attempt waits a minute, however slow the machine
        trusted_proxies=("127.0.0.1/32",),
    )
    try:
        with wsgi_thread(legacy_app) as legacy, uvicorn_thread(create_services_app(settings)) as services:
            text = table_yaml(
                {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}, ROUTES
            )
            with gateway_server(Path(tmp), text, admin_token="gw-admin") as (gateway, _):
                yield {"url": gateway.url, "legacy_app": legacy_app}
    finally:
        legacy_app.extensions[ENGINE_KEY].dispose()


def token(rig: dict[str, Any], username: str = "user") -> str:
    answer = httpx.post(f"{rig['url']}/auth/token", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200 and answer.headers["x-gateway-upstream"] == "services"
    return str(answer.json()["access_token"])


def me(rig: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return httpx.get(f"{rig['url']}/auth/me", timeout=10, **kwargs)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forgeries(good: str) -> dict[str, str]:
    claims = jwt.get_unverified_claims(good)
    header, payload, signature = good.split(".")
    admin = {**claims, "role": "ADMIN", "sub": "1"}
    return {
        "alg-none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(admin)}.",
        "other-secret": jwt.encode(admin, "not-the-secret", algorithm="HS256"),
        "tampered-payload": f"{header}.{_b64(admin)}.{signature}",
        "other-hmac-alg": jwt.encode(admin, SECRET, algorithm="HS512"),
        "expired": jwt.encode({**claims, "exp": int(time.time()) - 3600}, SECRET, algorithm="HS256"),
        "truncated": good[:-10],
        "garbage": "a.b.c",
    }


def test_a_genuine_token_works_through_the_gateway(rig: dict[str, Any]) -> None:
    answer = me(rig, headers={"Authorization": f"Bearer {token(rig)}"})
    assert answer.status_code == 200 and answer.json()["user"]["username"] == "user"


@pytest.mark.parametrize(
    "forgery",
    ["alg-none", "other-secret", "tampered-payload", "other-hmac-alg", "expired", "truncated", "garbage"],
)
def test_forged_tokens_are_refused_through_the_gateway(rig: dict[str, Any], forgery: str) -> None:
    forged = forgeries(token(rig))[forgery]
    answer = me(rig, headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401
    assert answer.headers["x-gateway-upstream"] == "services"
    playlists = httpx.get(f"{rig['url']}/api/playlists/", headers={"Authorization": f"Bearer {forged}"})
    assert playlists.status_code == 401


def test_a_tampered_legacy_session_cookie_is_refused_on_both_sides(rig: dict[str, Any]) -> None:
    good = session_cookie(rig["legacy_app"], "user")
    payload, _, signature = good.rpartition(".")
    tampered = f"{payload}.{'A' * len(signature)}"
    assert me(rig, cookies={"mvidarr_session": good}).status_code == 200
    assert me(rig, cookies={"mvidarr_session": tampered}).status_code == 401
    legacy = httpx.get(f"{rig['url']}/auth/session", cookies={"mvidarr_session": tampered})
    assert legacy.status_code in (401, 404) or not legacy.json().get("authenticated", False)


def test_a_user_token_cannot_reach_admin_only_routes_through_the_gateway(rig: dict[str, Any]) -> None:
    user = token(rig)
    answer = httpx.put(
        f"{rig['url']}/auth/users/3/role", json={"role": "ADMIN"}, headers={"Authorization": f"Bearer {user}"}
    )
    assert answer.status_code == 403


def test_a_refresh_token_replayed_after_rotation_revokes_the_family_through_the_gateway(
    rig: dict[str, Any],
) -> None:
    with httpx.Client(base_url=rig["url"]) as browser:
        assert (
            browser.post("/auth/token", json={"username": "manager", "password": PASSWORD}).status_code == 200
        )
        stolen = dict(browser.cookies)
        assert browser.post("/auth/refresh").status_code == 200  # rotation: the old token is spent
    with httpx.Client(base_url=rig["url"], cookies=stolen) as thief:
        assert thief.post("/auth/refresh").status_code == 401


def test_clients_cannot_force_a_rollout_side_without_the_admin_token(rig: dict[str, Any]) -> None:
    sides = set()
    for n in range(20):
        answer = httpx.get(
            f"{rig['url']}/api/settings/app_port",
            headers={"X-Figway-Target": "target", "X-User-Id": "sticky-user", "Cookie": "sid=fixed"},
        )
        sides.add(answer.headers.get("x-gateway-upstream"))
        assert answer.status_code == 200
    assert len(sides) == 1  # one sticky side, whatever the header asks


def test_authorization_named_in_connection_is_dropped_and_the_request_is_anonymous(
    rig: dict[str, Any],
) -> None:
    # RFC 9110 7.6.1: headers named in Connection are hop-by-hop, so the gateway removes the
    # credential; the upstream then treats the request as anonymous (401), never as someone else.
    answer = me(rig, headers={"Authorization": f"Bearer {token(rig)}", "Connection": "Authorization"})
    assert answer.status_code == 401
    anonymous = me(rig)
    assert anonymous.status_code == 401


# Last in the file: it spends the test address's login budget.
def test_spoofed_forwarded_addresses_do_not_reset_the_login_rate_limit(rig: dict[str, Any]) -> None:
    # The gateway replaces X-Forwarded-For from untrusted clients, so every attempt counts
    # against the one real address however the attacker varies the header.
    statuses = []
    for n in range(12):
        answer = httpx.post(
            f"{rig['url']}/auth/token",
            json={"username": f"nobody{n}", "password": "wrong"},
            headers={"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}"},
        )
        statuses.append(answer.status_code)
    assert 429 in statuses, statuses
    assert statuses.index(429) <= 6
