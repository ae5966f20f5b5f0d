"""Every legacy endpoint answers through the gateway exactly as it does directly.

Two legacy apps run on identical freshly seeded SQLite databases: one is called directly, the
other through the gateway (whose table sends everything to legacy by default). The same request
sequence (reads, a login, writes) goes to both; status, the headers that matter and the body must
match. Values that differ between two runs of the same app (timestamps) are normalised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from legacy_flask.app import create_app
from legacy_flask.database import init_db, make_engine
from legacy_flask.extensions import ENGINE_KEY
from legacy_flask.seed import seed
from tests.gateway.proxy_support import gateway_server, table_yaml
from tests.support.servers import RunningServer, wsgi_thread

PASSWORD = "Figway-demo-1"
HEADERS_THAT_MATTER = ("content-type", "location", "www-authenticate", "cache-control", "content-disposition")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?")
_VOLATILE = {
    "query_time",
    "token",
    "uptime",
    "uptime_seconds",
    "response_time_ms",
    "timestamp",
    "checked_at",
    "duration_ms",
    "pid",
}

READS = [
    "/auth/check",
    "/auth/session",
    "/api/videos/",
    "/api/videos/?limit=5&offset=3",
    "/api/videos/search?q=a&status=downloaded",
    "/api/videos/search?q=%C3%A9&genre=pop&genre=rock",
    "/api/videos/1",
    "/api/videos/999999",
    "/api/videos/abc",
    "/api/artists/",
    "/api/artists/1",
    "/api/artists/999999",
    "/api/playlists/",
    "/api/playlists/1",
    "/api/settings/",
    "/api/settings/theme",
    "/api/settings/no_such_key",
    "/api/health/",
    "/api/health",
    "/api/health/database",
    "/api/health/version",
    "/no/such/page",
    "/static/does-not-exist.css",
]

WRITES: list[tuple[str, str, Any]] = [
    ("POST", "/auth/login", {"username": "admin", "password": "wrong"}),
    ("POST", "/auth/login", {"username": "admin", "password": PASSWORD}),
    ("GET", "/auth/check", None),
    ("POST", "/api/videos/", {"title": "Through The Gateway", "artist_id": 1}),
    ("POST", "/api/videos/", {"title": ""}),
    ("PUT", "/api/videos/1", {"title": "Renamed"}),
    ("PUT", "/api/videos/1/status", {"status": "wanted"}),
    ("GET", "/api/videos/1", None),
    ("DELETE", "/api/videos/2", None),
    ("POST", "/api/artists/", {"name": "New Artist"}),
    ("PUT", "/api/artists/1", {"name": "Renamed Artist"}),
    ("PUT", "/api/settings/theme", {"value": "dark"}),
    ("PUT", "/api/settings/bulk", {"settings": {"theme": "light"}}),
    ("DELETE", "/api/settings/no_such_key", None),
    ("POST", "/api/playlists/", {"name": "Mix"}),
    ("POST", "/api/playlists/1/videos", {"video_id": 3}),
    ("POST", "/admin/api/users/3/toggle-active", None),
    ("POST", "/auth/logout", None),
    ("GET", "/auth/check", None),
]


def normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("<volatile>" if k in _VOLATILE else normalise(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        return _TIMESTAMP.sub("<ts>", value)
    return value


def diff(left: Any, right: Any, path: str = "") -> list[str]:
    """Where two snapshots differ, for a readable failure."""
    if isinstance(left, dict) and isinstance(right, dict):
        out = []
        for key in sorted(set(left) | set(right), key=str):
            out += diff(left.get(key), right.get(key), f"{path}.{key}")
        return out
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [
            d for i, (x, y) in enumerate(zip(left, right, strict=True)) for d in diff(x, y, f"{path}[{i}]")
        ]
    return [] if left == right else [f"{path}: {left!r} != {right!r}"]


def snapshot(response: httpx.Response) -> dict[str, Any]:
    headers = {name: response.headers.get(name) for name in HEADERS_THAT_MATTER}
    cookies = sorted(c.split("=", 1)[0] for c in response.headers.get_list("set-cookie"))
    try:
        body: Any = normalise(response.json())
    except ValueError:
        body = _TIMESTAMP.sub("<ts>", response.text)
    return {"status": response.status_code, "headers": headers, "cookies": cookies, "body": body}


@pytest.fixture
def legacy_pair(tmp_path: Path) -> Iterator[tuple[RunningServer, RunningServer]]:
    servers = []
    apps = []
    stack = []
    for name in ("direct", "proxied"):
        url = f"sqlite:///{tmp_path / name}.db"
        engine = make_engine(url)
        init_db(engine)
        seed(engine, scale=0.05, password=PASSWORD)
        engine.dispose()
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "e2e-secret", "TESTING": True})
        apps.append(app)
        ctx = wsgi_thread(app)
        servers.append(ctx.__enter__())
        stack.append(ctx)
    try:
        yield servers[0], servers[1]
    finally:
        for ctx in stack:
            ctx.__exit__(None, None, None)
        for app in apps:
            app.extensions[ENGINE_KEY].dispose()


def test_every_legacy_endpoint_answers_the_same_through_the_gateway(
    tmp_path: Path, legacy_pair: tuple[RunningServer, RunningServer]
) -> None:
    direct, proxied = legacy_pair
    text = table_yaml({"legacy": f"{{url: '{proxied.url}'}}"})
    with (
        gateway_server(tmp_path, text) as (gateway, _),
        httpx.Client(base_url=direct.url, timeout=30) as a,
        httpx.Client(base_url=gateway.url, timeout=30) as b,
    ):
        mismatches = []
        for path in READS:
            left, right = snapshot(a.get(path)), snapshot(b.get(path))
            if left != right:
                mismatches.append((path, left, right))
        for method, path, body in WRITES:
            left = snapshot(a.request(method, path, json=body))
            right = snapshot(b.request(method, path, json=body))
            if left != right:
                mismatches.append((f"{method} {path}", left, right))
        via_gateway = b.get("/api/videos/1")
    for path, left, right in mismatches:
        print("MISMATCH", path, json.dumps(diff(left, right))[:600])
    assert mismatches == []
    assert via_gateway.headers["x-gateway-route"] == "default"
    assert via_gateway.headers["x-gateway-upstream"] == "legacy"
