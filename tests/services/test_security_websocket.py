"""The WebSocket path, with and without credentials, through the gateway to the real services.

The services serve no WebSocket endpoint: whatever credential rides on an upgrade (none, a valid
session cookie, a valid or forged bearer token, two users' credentials at once), no WebSocket is
ever opened to them, no data flows, and the credential keeps meaning exactly what it means on
plain HTTP afterwards (an upgrade is no side door around the login guard or the one-principal
rule). Run on SQLite and MariaDB.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.sync.client import connect

from tests.services._security_support import COOKIE, Stack, serve_stack


@pytest.fixture
def through_gateway(database_url: str, tmp_path: Path) -> Iterator[Stack]:
    with serve_stack(database_url, tmp_path, "gateway") as stack:
        stack.execute("UPDATE settings SET value = 'true' WHERE `key` = 'require_authentication'")
        yield stack


def _upgrade(stack: Stack, path: str, headers: dict[str, str]) -> str:
    """How the upgrade ended: "refused <status>" or "closed" (never "open")."""
    url = str(stack.api.base_url).replace("http://", "ws://") + path
    try:
        with connect(url, additional_headers=headers, open_timeout=20) as ws:
            try:
                ws.recv(timeout=10)
            except WebSocketException:
                return "closed"
            return "open"
    except InvalidStatus as exc:
        return f"refused {exc.response.status_code}"
    except (WebSocketException, OSError):
        return "closed"


def test_no_websocket_opens_with_or_without_credentials(through_gateway: Stack) -> None:
    stack = through_gateway
    token = stack.login_token("readonly")["access"]
    stack.api.cookies.clear()
    admin_cookie = f"{COOKIE}={stack.cookie('admin')}"
    cases = {
        "none": {},
        "cookie": {"Cookie": admin_cookie},
        "bearer": {"Authorization": f"Bearer {token}"},
        "forged bearer": {"Authorization": "Bearer x"},
        "two users": {"Cookie": admin_cookie, "Authorization": f"Bearer {token}"},
    }
    outcomes = {name: _upgrade(stack, "/api/videos/", headers) for name, headers in cases.items()}
    assert all(outcome != "open" for outcome in outcomes.values()), outcomes
    # The same credentials on plain HTTP afterwards: exactly their usual meaning.
    assert stack.api.get("/api/videos/?limit=1").status_code == 401
    with stack.fresh() as client:
        assert client.get("/api/videos/?limit=1", headers=cases["cookie"]).status_code == 200
        assert client.get("/api/videos/?limit=1", headers=cases["forged bearer"]).status_code == 401
        assert client.get("/api/videos/?limit=1", headers=cases["two users"]).status_code == 401
        assert client.get("/auth/me", headers=cases["bearer"]).json()["role"] == "READONLY"
