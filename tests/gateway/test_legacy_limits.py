"""gateway.legacy_limits: a request legacy's server (gunicorn) would refuse goes to legacy, whose
refusal the client then gets, instead of a 200 from the services that told the sides apart."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from gateway.legacy_limits import LegacyServerLimits
from tests.gateway.proxy_support import gateway_server, table_yaml, upstream_server

ROUTES = """
  - id: migrated
    path: /api/migrated
    methods: [GET]
    target: services
    rollout:
      - {from: 2020-W01, mode: live}
  - id: plain
    path: /api/plain
    methods: [GET]
    to: services
"""

LIMITS = LegacyServerLimits()


def _line(length: int) -> bytes:
    """A request target whose request line ("GET <target> HTTP/1.1") is `length` bytes."""
    return b"/q?" + b"a" * (length - len("GET /q? HTTP/1.1"))


def test_the_request_line_limit_is_gunicorns() -> None:
    assert not LIMITS.refuses("GET", _line(4094), [])
    assert LIMITS.refuses("GET", _line(4095), [])
    assert not LegacyServerLimits(request_line=0).refuses("GET", _line(9000), [])
    # gunicorn caps the setting at 8190
    assert LegacyServerLimits(request_line=20000).refuses("GET", _line(8191), [])


def test_the_header_line_limit_counts_name_separator_and_crlf() -> None:
    cookie = (b"cookie", b"x" * (8190 - len("cookie: \r\n")))
    assert not LIMITS.refuses("GET", b"/", [cookie])
    assert LIMITS.refuses("GET", b"/", [(b"cookie", cookie[1] + b"x")])
    assert not LegacyServerLimits(field_size=0).refuses("GET", b"/", [(b"cookie", b"x" * 20000)])


def test_the_header_count_limit_includes_the_transfer_encoding_the_transport_adds() -> None:
    hundred = [(b"x-h%d" % i, b"1") for i in range(100)]
    assert not LIMITS.refuses("GET", b"/", hundred)
    assert LIMITS.refuses("GET", b"/", [*hundred, (b"x-more", b"1")])
    assert LIMITS.refuses("POST", b"/", hundred, chunked=True)
    assert not LegacyServerLimits(fields=0).refuses("GET", b"/", hundred * 2)


@pytest.mark.parametrize(
    ("query", "headers", "upstream"),
    [
        ("q=short", {}, "services"),
        ("q=" + "a" * 4100, {}, "legacy"),
        ("q=short", {"Cookie": "x=" + "a" * 8200}, "legacy"),
        ("q=short", {f"X-H{i}": "1" for i in range(100)}, "legacy"),
    ],
)
def test_a_migrated_route_leaves_what_legacy_refuses_to_legacy(
    tmp_path: Path, query: str, headers: dict[str, str], upstream: str
) -> None:
    with upstream_server("legacy") as (legacy, seen_legacy), upstream_server("services") as (svc, seen_svc):
        text = table_yaml({"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{svc.url}'}}"}, ROUTES)
        with gateway_server(tmp_path, text) as (gateway, _), httpx.Client(base_url=gateway.url) as http:
            answer = http.get(f"/api/migrated?{query}", headers=headers)
            plain = http.get(f"/api/plain?{query}", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["x-gateway-upstream"] == upstream
    assert len(seen_legacy.requests) == (upstream == "legacy")
    # a route with no legacy side has nowhere else to go
    assert plain.headers["x-gateway-upstream"] == "services"


SHADOWED = """
  - id: shadowed
    path: /api/shadowed
    methods: [GET]
    target: services
    rollout:
      - {from: 2020-W01, mode: shadow}
"""


def test_what_legacy_refuses_is_not_mirrored_to_a_shadow_target(tmp_path: Path) -> None:
    with upstream_server("legacy") as (legacy, _), upstream_server("services") as (svc, seen_svc):
        text = table_yaml(
            {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{svc.url}'}}"}, SHADOWED
        )
        # one shadow worker: mirrors go out in order, so once the second is in the first was handled
        with (
            gateway_server(tmp_path, text, shadow_workers=1) as (gateway, gw),
            httpx.Client(base_url=gateway.url) as http,
        ):
            assert http.get("/api/shadowed?q=" + "a" * 4100).headers["x-gateway-upstream"] == "legacy"
            assert http.get("/api/shadowed?q=short").headers["x-gateway-upstream"] == "legacy"
            for _ in range(1000):
                if gw.cutover.diffs.route("shadowed").compared:
                    break
                time.sleep(0.01)
    assert [request["query_string"] for request in seen_svc.requests] == ["q=short"]
