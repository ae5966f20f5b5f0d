"""Every proxy rule against real upstream servers, through a gateway on a real socket."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.proxy_support import UpstreamState, gateway_server, table_yaml, upstream_server
from tests.support.servers import RunningServer, free_port

ROUTES = """
  - id: svc-items
    path: /api/items/{id:int}
    methods: [GET, PUT]
    to: services
  - id: svc-static
    path: /static/{rest:path}
    to: services
  - id: rolled
    path: /api/videos/
    methods: [GET]
    target: services
    rollout:
      - {from: 2020-W01, mode: shadow}
      - {from: 2021-W01, mode: live}
  - id: future
    path: /api/future
    target: services
    rollout:
      - {from: 2999-W01, mode: live}
"""


class Env:
    def __init__(self, gateway: RunningServer, legacy: UpstreamState, services: UpstreamState) -> None:
        self.gateway = gateway
        self.legacy = legacy
        self.services = services
        self.client = httpx.Client(base_url=gateway.url, timeout=10)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def seen(self, response: httpx.Response) -> dict[str, Any]:
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module", params=["native", "aiohttp"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """Every rule holds with both forwarding clients (GATEWAY_UPSTREAM_CLIENT)."""
    tmp = tmp_path_factory.mktemp("proxy")
    with upstream_server("legacy") as (legacy, legacy_state), upstream_server("services") as (svc, svc_state):
        text = table_yaml(
            {
                "legacy": f"{{url: '{legacy.url}'}}",
                "services": f"{{url: '{svc.url}', host: upstream, timeout: {{read: 0.5}}}}",
            },
            ROUTES,
        )
        with gateway_server(tmp, text, upstream_client=request.param) as (gateway, _app):
            environment = Env(gateway, legacy_state, svc_state)
            yield environment
            environment.client.close()


def raw_exchange(server: RunningServer, request: bytes, *, read_until_close: bool = True) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
            if not read_until_close:
                break
        return b"".join(chunks)


def header_lines(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    return head.split("\r\n")[1:]


def header_values(seen: dict[str, Any], name: str) -> list[str]:
    return [value for key, value in seen["headers"] if key == name]


def test_unmatched_request_goes_to_default_upstream(env: Env) -> None:
    response = env.get("/anything/else")
    assert response.status_code == 200
    assert env.seen(response)["upstream"] == "legacy"
    assert response.headers["x-gateway-route"] == "default"
    assert response.headers["x-gateway-upstream"] == "legacy"


def test_matched_route_goes_to_its_upstream(env: Env) -> None:
    response = env.get("/api/items/42")
    assert env.seen(response)["upstream"] == "services"
    assert response.headers["x-gateway-route"] == "svc-items"
    assert response.headers["x-gateway-upstream"] == "services"


def test_typed_parameter_mismatch_falls_back_to_default(env: Env) -> None:
    response = env.get("/api/items/abc")
    assert env.seen(response)["upstream"] == "legacy"


def test_method_outside_route_goes_to_default_upstream(env: Env) -> None:
    response = env.client.post("/api/items/42", content=b"x")
    assert env.seen(response)["upstream"] == "legacy"
    assert response.headers["x-gateway-route"] == "default"


def test_head_follows_get_route(env: Env) -> None:
    response = env.client.head("/api/items/42")
    assert response.headers["x-gateway-upstream"] == "services"
    assert response.content == b""


def test_live_phase_routes_to_target(env: Env) -> None:
    response = env.get("/api/videos/")
    assert response.headers["x-gateway-upstream"] == "services"


def test_route_before_its_first_phase_stays_on_legacy(env: Env) -> None:
    response = env.get("/api/future")
    assert response.headers["x-gateway-route"] == "future"
    assert response.headers["x-gateway-upstream"] == "legacy"


def test_catch_all_path_parameter_route(env: Env) -> None:
    response = env.get("/static/css/site.css")
    assert env.seen(response)["upstream"] == "services"
    assert env.seen(response)["path"] == "/static/css/site.css"


def test_query_string_forwarded_byte_exact(env: Env) -> None:
    query = "b=2&a=1&a=%2F&c=%20+x&d=%E2%9C%93&e=&f&a=3"
    raw = raw_exchange(
        env.gateway, f"GET /echo?{query} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode()
    )
    body = json.loads(raw.split(b"\r\n\r\n", 1)[1])
    assert body["query_string"] == query


def test_percent_encoded_path_forwarded_byte_exact(env: Env) -> None:
    raw = raw_exchange(
        env.gateway, b"GET /files/a%20b/%C3%A9t%C3%A9 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    body = json.loads(raw.split(b"\r\n\r\n", 1)[1])
    assert body["raw_path"] == "/files/a%20b/%C3%A9t%C3%A9"


def test_hop_by_hop_request_headers_removed(env: Env) -> None:
    response = env.get(
        "/echo",
        headers={
            "Connection": "keep-alive, X-Secret",
            "X-Secret": "do-not-forward",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Proxy-Authorization": "Basic eA==",
            "X-Normal": "kept",
        },
    )
    names = {name for name, _ in env.seen(response)["headers"]}
    assert not names & {"connection", "x-secret", "keep-alive", "te", "proxy-authorization"}
    assert "x-normal" in names


def test_hop_by_hop_response_headers_removed(env: Env) -> None:
    response = env.get("/hop")
    assert "x-secret" not in response.headers
    assert "keep-alive" not in response.headers
    assert response.headers["x-kept"] == "1"


def test_x_forwarded_headers_added(env: Env) -> None:
    response = env.get("/echo", headers={"Host": "shop.example:8443"})
    seen = env.seen(response)
    assert header_values(seen, "x-forwarded-for") == ["127.0.0.1"]
    assert header_values(seen, "x-forwarded-proto") == ["http"]
    assert header_values(seen, "x-forwarded-host") == ["shop.example:8443"]


def test_x_forwarded_for_from_untrusted_client_is_replaced(env: Env) -> None:
    response = env.get("/echo", headers={"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"})
    seen = env.seen(response)
    assert header_values(seen, "x-forwarded-for") == ["127.0.0.1"]
    assert header_values(seen, "x-forwarded-proto") == ["http"]


def test_x_forwarded_for_appended_for_trusted_proxy(tmp_path: Path) -> None:
    with upstream_server() as (up, _state):
        text = table_yaml({"legacy": f"{{url: '{up.url}'}}"})
        with gateway_server(tmp_path, text, trusted_proxies="127.0.0.0/8", admin_token="t") as (gateway, _):
            response = httpx.get(
                f"{gateway.url}/echo",
                headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
            )
    seen = response.json()
    assert header_values(seen, "x-forwarded-for") == ["203.0.113.7, 127.0.0.1"]
    assert header_values(seen, "x-forwarded-proto") == ["https"]


def test_request_id_generated_and_sent_both_ways(env: Env) -> None:
    response = env.get("/echo")
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    assert header_values(env.seen(response), "x-request-id") == [request_id]


def test_request_id_kept_from_client(env: Env) -> None:
    response = env.get("/echo-rid", headers={"X-Request-ID": "abc-123"})
    assert response.headers.get_list("x-request-id") == ["abc-123"]
    assert header_values(env.seen(response), "x-request-id") == ["abc-123"]


def test_invalid_request_id_is_replaced(env: Env) -> None:
    response = env.get("/echo", headers={"X-Request-ID": "bad id with spaces"})
    assert response.headers["x-request-id"] != "bad id with spaces"


def test_set_cookie_headers_not_merged(env: Env) -> None:
    raw = raw_exchange(env.gateway, b"GET /cookies HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    cookies = [line for line in header_lines(raw) if line.lower().startswith("set-cookie:")]
    assert cookies == ["set-cookie: a=1; Path=/", "set-cookie: b=2; HttpOnly"]


def test_redirect_passed_through_not_followed(env: Env) -> None:
    before = len(env.legacy.requests)
    response = env.get("/redirect")
    assert response.status_code == 302
    assert response.headers["location"] == "/elsewhere?x=1"
    assert [r["path"] for r in env.legacy.requests[before:]] == ["/redirect"]


def test_host_preserved_by_default(env: Env) -> None:
    response = env.get("/echo", headers={"Host": "client.example"})
    assert header_values(env.seen(response), "host") == ["client.example"]


def test_host_rewritten_when_upstream_asks(env: Env) -> None:
    response = env.get("/api/items/1", headers={"Host": "client.example"})
    host = header_values(env.seen(response), "host")
    assert host and host[0].startswith("127.0.0.1:")


def test_no_duplicated_date_or_server_headers(env: Env) -> None:
    raw = raw_exchange(env.gateway, b"GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    names = [line.split(":", 1)[0].lower() for line in header_lines(raw)]
    assert names.count("date") == 1
    assert names.count("server") == 1


def test_body_less_request_forwarded_without_body(env: Env) -> None:
    response = env.get("/echo")
    seen = env.seen(response)
    names = {name for name, _ in seen["headers"]}
    assert "transfer-encoding" not in names
    assert "content-length" not in names
    assert seen["body_bytes"] == 0


def test_delete_without_body_has_no_chunked_encoding(env: Env) -> None:
    response = env.client.delete("/echo")
    names = {name for name, _ in env.seen(response)["headers"]}
    assert "transfer-encoding" not in names


def test_upload_with_content_length_streamed(env: Env) -> None:
    response = env.client.put("/echo", content=b"y" * 300_000)
    seen = env.seen(response)
    assert seen["body_bytes"] == 300_000
    assert header_values(seen, "content-length") == ["300000"]


def test_chunked_upload_forwarded(env: Env) -> None:
    body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    raw = raw_exchange(
        env.gateway,
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body,
    )
    seen = json.loads(raw.split(b"\r\n\r\n", 1)[1])
    assert seen["body_bytes"] == 11


def test_expect_100_continue_upload(env: Env) -> None:
    with socket.create_connection((env.gateway.host, env.gateway.port), timeout=10) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
            b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
        )
        interim = sock.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100")
        sock.sendall(b"data")
        rest = b""
        while chunk := sock.recv(65536):
            rest += chunk
    assert b"200 OK" in rest
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert body["body_bytes"] == 4
    assert not header_values(body, "expect")


def test_connect_failure_is_502_json(tmp_path: Path) -> None:
    dead = free_port()
    text = table_yaml({"legacy": f"{{url: 'http://127.0.0.1:{dead}'}}"})
    with gateway_server(tmp_path, text) as (gateway, _):
        response = httpx.get(f"{gateway.url}/x", headers={"X-Request-ID": "rid-502"})
    assert response.status_code == 502
    assert response.json() == {
        "error": {
            "code": "upstream_unreachable",
            "message": "the upstream could not be reached",
            "request_id": "rid-502",
        }
    }
    assert response.headers["x-request-id"] == "rid-502"


def test_timeout_is_504_json(env: Env) -> None:
    response = env.get("/static/slow?s=3")  # services has a 0.5 s read timeout
    assert response.status_code == 504
    error = response.json()["error"]
    assert error["code"] == "upstream_timeout"
    assert error["request_id"] == response.headers["x-request-id"]


def test_route_headers_can_be_switched_off(tmp_path: Path) -> None:
    with upstream_server() as (up, _state):
        text = table_yaml({"legacy": f"{{url: '{up.url}'}}"})
        with gateway_server(tmp_path, text, route_headers=False) as (gateway, _):
            response = httpx.get(f"{gateway.url}/echo")
    assert "x-gateway-route" not in response.headers
    assert "x-gateway-upstream" not in response.headers


@pytest.mark.parametrize(
    ("raw_path", "route", "forwarded"),
    [
        ("/static/../api/items/7", "svc-items", "/api/items/7"),
        ("/static/%2e%2e/api/items/7", "svc-items", "/api/items/7"),
        ("/static/%2E./api/items/7", "svc-items", "/api/items/7"),
        ("/api//items/7", "svc-items", "/api/items/7"),
        ("/api/./items/7", "svc-items", "/api/items/7"),
        ("/api/items/7/../../../public", "default", "/public"),
    ],
)
def test_path_traversal_is_normalised_before_matching(
    env: Env, raw_path: str, route: str, forwarded: str
) -> None:
    raw = raw_exchange(
        env.gateway, f"GET {raw_path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode()
    )
    head = "\r\n".join(header_lines(raw)).lower()
    assert f"x-gateway-route: {route}" in head
    body = json.loads(raw.split(b"\r\n\r\n", 1)[1])
    assert body["raw_path"] == forwarded


@pytest.mark.parametrize(
    "raw_path", ["/static/..%2fapi/items/7", "/api%2Fitems/7", "/a%5c..%5cb", "/..", "/a/%00"]
)
def test_path_traversal_tricks_are_rejected(env: Env, raw_path: str) -> None:
    before = len(env.services.requests) + len(env.legacy.requests)
    raw = raw_exchange(
        env.gateway, f"GET {raw_path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode()
    )
    assert raw.startswith(b"HTTP/1.1 400")
    assert json.loads(raw.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "bad_request"
    assert len(env.services.requests) + len(env.legacy.requests) == before


def test_headers_too_large_is_431(tmp_path: Path) -> None:
    with upstream_server() as (up, _state):
        text = table_yaml({"legacy": f"{{url: '{up.url}'}}"})
        with gateway_server(tmp_path, text, max_header_bytes=2048) as (gateway, _):
            response = httpx.get(f"{gateway.url}/echo", headers={"X-Big": "z" * 4000})
    assert response.status_code == 431
    assert response.json()["error"]["code"] == "headers_too_large"


def test_body_too_large_is_413(tmp_path: Path) -> None:
    with upstream_server() as (up, state):
        text = table_yaml({"legacy": f"{{url: '{up.url}'}}"})
        with gateway_server(tmp_path, text, max_body_bytes=1000) as (gateway, _):
            declared = httpx.post(f"{gateway.url}/echo", content=b"z" * 5000)

            def stream() -> Iterator[bytes]:
                for _ in range(10):
                    yield b"z" * 500

            chunked = httpx.post(f"{gateway.url}/echo", content=stream())
            small = httpx.post(f"{gateway.url}/echo", content=b"z" * 10)
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "body_too_large"
    assert chunked.status_code == 413
    assert small.status_code == 200
    assert all(r["body_bytes"] <= 1000 for r in state.requests)


def test_client_disconnect_cancels_upstream_request(env: Env) -> None:
    env.legacy.disconnected.clear()
    env.legacy.slow_started.clear()
    sock = socket.create_connection((env.gateway.host, env.gateway.port), timeout=10)
    sock.sendall(b"GET /hang-watch HTTP/1.1\r\nHost: t\r\n\r\n")
    assert env.legacy.slow_started.wait(10)
    sock.close()
    assert env.legacy.disconnected.wait(10)


def test_upstream_status_and_body_passed_through(env: Env) -> None:
    response = env.get("/status?code=418")
    assert response.status_code == 418
    assert env.seen(response)["path"] == "/status"


def test_keepalive_connection_serves_many_requests(env: Env) -> None:
    with httpx.Client(base_url=env.gateway.url) as client:
        statuses = [client.get(f"/echo?i={i}").status_code for i in range(50)]
    assert statuses == [200] * 50


def test_access_log_has_one_event_per_request(tmp_path: Path) -> None:
    import io

    from gateway.logs import configure_logging

    stream = io.StringIO()
    configure_logging(log_format="json", stream=stream)
    try:
        with upstream_server() as (up, _state):
            text = table_yaml({"legacy": f"{{url: '{up.url}'}}"})
            with gateway_server(tmp_path, text) as (gateway, _):
                httpx.put(f"{gateway.url}/echo?q=1", content=b"abc", headers={"X-Request-ID": "log-1"})
                time.sleep(0.1)
    finally:
        configure_logging(log_format="json")
    events = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    access = [e for e in events if e["event"] == "proxy.request"]
    assert len(access) == 1
    event = access[0]
    assert event["request_id"] == "log-1"
    assert event["route"] == "default"
    assert event["mode"] == "legacy"
    assert event["upstream"] == "legacy"
    assert event["status"] == 200
    assert event["bytes_in"] == 3
    assert event["bytes_out"] > 0
    assert event["upstream_ms"] >= 0
    assert event["total_ms"] >= event["upstream_ms"]


def test_gateway_errors_carry_one_date_header(tmp_path: Path) -> None:
    text = table_yaml({"legacy": f"{{url: 'http://127.0.0.1:{free_port()}'}}"})
    with gateway_server(tmp_path, text) as (gateway, _):
        raw = raw_exchange(gateway, b"GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    names = [line.split(":", 1)[0].lower() for line in header_lines(raw)]
    assert raw.startswith(b"HTTP/1.1 502")
    assert names.count("date") == 1


def test_phase_flip_takes_effect_when_the_clock_passes_it(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    now = [datetime(2026, 12, 6, 23, 59, tzinfo=UTC).timestamp()]
    routes = (
        "  - id: flips\n    path: /api/flips\n    methods: [GET]\n    target: services\n    rollout:\n"
        "      - {from: 2026-W49, mode: shadow}\n      - {from: 2026-W50, mode: live}\n"
    )
    with upstream_server("legacy") as (legacy, _), upstream_server("services") as (services, _):
        text = table_yaml(
            {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}, routes
        )
        with gateway_server(tmp_path, text, clock=lambda: now[0]) as (gateway, _):
            before = httpx.get(f"{gateway.url}/api/flips")
            now[0] = datetime(2026, 12, 7, 0, 0, tzinfo=UTC).timestamp()  # Monday of 2026-W50
            after = httpx.get(f"{gateway.url}/api/flips")
    assert before.headers["x-gateway-upstream"] == "legacy"
    assert before.json()["upstream"] == "legacy"
    assert after.headers["x-gateway-upstream"] == "services"
    assert after.json()["upstream"] == "services"
