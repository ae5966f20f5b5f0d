"""Streaming both ways: SSE without buffering, 200 MB each way with bounded gateway memory, WebSocket."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.gateway.proxy_support import gateway_server, table_yaml, upstream_server
from tests.support.servers import free_port, python_module, subprocess_server

BIG = 200 * 1024 * 1024
#: The gateway may hold a few socket buffers and chunks per transfer, never the body.
MEMORY_BOUND = 48 * 1024 * 1024


def test_sse_first_event_arrives_before_upstream_finishes(tmp_path: Path) -> None:
    with upstream_server() as (up, state):  # noqa: SIM117
        with gateway_server(tmp_path, table_yaml({"legacy": f"{{url: '{up.url}'}}"})) as (gateway, _):
            with httpx.stream("GET", f"{gateway.url}/sse", timeout=10) as response:
                assert response.headers["content-type"] == "text/event-stream"
                lines = response.iter_lines()
                first = next(lines)
                # The upstream is still holding the stream open: it finishes only after this.
                assert not state.sse_gate.is_set()
                state.sse_gate.set()
                rest = [line for line in lines if line]
    assert first == "data: first"
    assert rest == ["data: second"]


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self._stop.wait(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def subprocess_gateway(tmp_path: Path) -> Iterator[tuple[str, int, object]]:
    with upstream_server() as (up, state):
        routing = tmp_path / "routing.yaml"
        routing.write_text(table_yaml({"legacy": f"{{url: '{up.url}', timeout: {{read: 60}}}}"}))
        port = free_port()
        env = {
            "GATEWAY_ROUTING_FILE": str(routing),
            "GATEWAY_WATCH": "false",
            "GATEWAY_LOG_FORMAT": "json",
            "GATEWAY_ADMIN_TOKEN": "t",
        }
        with subprocess_server(
            python_module("gateway", "serve", "--port", str(port)), port=port, env=env
        ) as (
            server,
            proc,
        ):
            yield server.url, proc.pid, state


@pytest.mark.slow
def test_200mb_download_streams_with_bounded_memory(subprocess_gateway: tuple[str, int, object]) -> None:
    url, pid, _state = subprocess_gateway
    httpx.get(f"{url}/download?n=1000000", timeout=30)  # warm up pools and imports
    baseline = psutil.Process(pid).memory_info().rss
    received = 0
    with RssSampler(pid) as sampler, httpx.stream("GET", f"{url}/download?n={BIG}", timeout=60) as response:
        assert response.headers["content-length"] == str(BIG)
        for chunk in response.iter_raw(1024 * 1024):
            received += len(chunk)
    assert received == BIG
    assert sampler.peak - baseline < MEMORY_BOUND


@pytest.mark.slow
def test_200mb_upload_streams_with_bounded_memory(subprocess_gateway: tuple[str, int, object]) -> None:
    url, pid, _state = subprocess_gateway
    httpx.post(f"{url}/echo", content=b"w" * 1_000_000, timeout=30)
    baseline = psutil.Process(pid).memory_info().rss
    block = os.urandom(1024 * 1024)

    def body() -> Iterator[bytes]:
        for _ in range(BIG // len(block)):
            yield block

    with RssSampler(pid) as sampler:
        response = httpx.post(f"{url}/echo", content=body(), timeout=60)
    assert response.status_code == 200
    assert response.json()["body_bytes"] == BIG
    assert sampler.peak - baseline < MEMORY_BOUND


def test_websocket_passthrough(tmp_path: Path) -> None:
    with upstream_server() as (up, _state):  # noqa: SIM117
        with gateway_server(tmp_path, table_yaml({"legacy": f"{{url: '{up.url}'}}"})) as (gateway, _):
            ws_url = f"ws://{gateway.host}:{gateway.port}/ws/room?x=1"
            with connect(ws_url, subprotocols=["chat"], additional_headers={"Cookie": "session=abc"}) as ws:
                hello = json.loads(ws.recv(timeout=10))
                ws.send("hi")
                echoed = ws.recv(timeout=10)
                ws.send(b"\x01\x02\x03")
                reversed_bytes = ws.recv(timeout=10)
                assert ws.subprotocol == "chat"
                assert ws.response.headers["x-gateway-route"] == "default"
                ws.send("close")
                with pytest.raises(ConnectionClosed) as closed:
                    ws.recv(timeout=10)
    assert hello == {"path": "/ws/room", "cookie": "session=abc"}
    assert echoed == "echo:hi"
    assert reversed_bytes == b"\x03\x02\x01"
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001


def test_websocket_to_dead_upstream_is_closed(tmp_path: Path) -> None:
    text = table_yaml({"legacy": f"{{url: 'http://127.0.0.1:{free_port()}'}}"})
    with gateway_server(tmp_path, text) as (gateway, _):
        url = f"ws://{gateway.host}:{gateway.port}/ws"
        with pytest.raises(Exception), connect(url) as ws:  # noqa: B017 - refused or closed at once
            ws.recv(timeout=10)


def test_client_leaving_mid_download_stops_the_relay(tmp_path: Path) -> None:
    import socket
    import time

    with upstream_server() as (up, _state):  # noqa: SIM117
        with gateway_server(tmp_path, table_yaml({"legacy": f"{{url: '{up.url}'}}"})) as (gateway, _):
            sock = socket.create_connection((gateway.host, gateway.port))
            sock.sendall(f"GET /download?n={BIG} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            sock.close()
            metrics = ""
            deadline = time.monotonic() + 10
            while 'kind="client_gone"' not in metrics and time.monotonic() < deadline:
                time.sleep(0.1)
                metrics = httpx.get(f"{gateway.url}/_gateway/metrics").text
    assert 'figway_upstream_errors_total{kind="client_gone",route="default",upstream="legacy"} 1.0' in metrics
    assert 'status="499"' in metrics
