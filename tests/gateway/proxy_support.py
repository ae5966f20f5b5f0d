"""Test upstreams and a gateway served on real sockets, for the proxy tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.app import Gateway
from gateway.loader import parse_table
from gateway.settings import GatewaySettings
from tests.support.servers import RunningServer, free_port, uvicorn_thread

CHUNK = 64 * 1024


@dataclass
class UpstreamState:
    """What the test upstream saw, shared with the test thread."""

    name: str = "up"
    requests: list[dict[str, Any]] = field(default_factory=list)
    sse_gate: threading.Event = field(default_factory=threading.Event)
    disconnected: threading.Event = field(default_factory=threading.Event)
    slow_started: threading.Event = field(default_factory=threading.Event)


def _query(scope: dict[str, Any]) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(scope["query_string"].decode()))


def make_upstream(state: UpstreamState) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] == "websocket":
            await websocket(scope, receive, send)
            return
        await http(scope, receive, send)

    async def websocket(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()  # websocket.connect
        protocols = scope.get("subprotocols") or []
        await send({"type": "websocket.accept", "subprotocol": protocols[0] if protocols else None})
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        await send(
            {
                "type": "websocket.send",
                "text": json.dumps({"path": scope["path"], "cookie": headers.get("cookie")}),
            }
        )
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") == "close":
                await send({"type": "websocket.close", "code": 4001})
                return
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": "echo:" + message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message["bytes"][::-1]})

    async def read_body(receive: Any) -> tuple[int, bool]:
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return size, True
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                return size, False

    async def respond(
        send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        base = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": base + (headers or [])})
        await send({"type": "http.response.body", "body": body})

    async def http(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope["path"]
        query = _query(scope)
        headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]]
        if path == "/download":
            size = int(query["n"])
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/octet-stream"),
                        (b"content-length", str(size).encode()),
                    ],
                }
            )
            block = b"x" * CHUNK
            sent = 0
            while sent < size:
                piece = block[: min(CHUNK, size - sent)]
                sent += len(piece)
                await send({"type": "http.response.body", "body": piece, "more_body": sent < size})
            return
        if path == "/sse":
            await read_body(receive)
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")],
                }
            )
            await send({"type": "http.response.body", "body": b"data: first\n\n", "more_body": True})
            for _ in range(600):  # waits for the test to see the first event (at most 30 s)
                if state.sse_gate.is_set():
                    break
                await asyncio.sleep(0.05)
            await send({"type": "http.response.body", "body": b"data: second\n\n", "more_body": False})
            return
        if path.endswith("/slow"):
            state.slow_started.set()
            try:
                await asyncio.sleep(float(query.get("s", "30")))
            except asyncio.CancelledError:
                state.disconnected.set()
                raise
            await respond(send, 200, b'{"slow": true}')
            return
        if path == "/hang-watch":
            # Answers only when the client goes away, which it notices through http.disconnect.
            state.slow_started.set()
            await read_body(receive)
            message = await receive()
            if message["type"] == "http.disconnect":
                state.disconnected.set()
            return
        size, _ = await read_body(receive)
        record = {
            "method": scope["method"],
            "path": path,
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query_string": scope["query_string"].decode("latin-1"),
            "headers": headers,
            "body_bytes": size,
            "upstream": state.name,
        }
        state.requests.append(record)
        if path == "/cookies":
            await respond(
                send, 200, b"{}", [(b"set-cookie", b"a=1; Path=/"), (b"set-cookie", b"b=2; HttpOnly")]
            )
            return
        if path == "/redirect":
            await respond(send, 302, b"", [(b"location", b"/elsewhere?x=1")])
            return
        if path == "/hop":
            await respond(
                send,
                200,
                b"{}",
                [
                    (b"connection", b"x-secret"),
                    (b"x-secret", b"1"),
                    (b"keep-alive", b"timeout=5"),
                    (b"x-kept", b"1"),
                ],
            )
            return
        if path == "/echo-rid":
            rid = dict(scope["headers"]).get(b"x-request-id", b"")
            await respond(send, 200, json.dumps(record).encode(), [(b"x-request-id", rid)])
            return
        if path == "/status":
            code = int(query["code"]) if query.get("on", state.name) == state.name else 200
            await respond(send, code, json.dumps(record).encode())
            return
        await respond(send, 200, json.dumps(record).encode())

    return app


def table_yaml(upstreams: dict[str, str], routes: str = "", default: str = "legacy", extra: str = "") -> str:
    lines = ["version: 1", "timezone: UTC", "upstreams:"]
    for name, spec in upstreams.items():
        lines.append(f"  {name}: {spec}")
    lines.append(f"default: {default}")
    # these tables exercise the calendar itself: flips wait for no evidence (tests/gateway/gates do)
    lines.append("evidence: none")
    lines.append(extra)
    lines.append("routes:" + (" []" if not routes.strip() else ""))
    if routes.strip():
        lines.append(routes.rstrip())
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def upstream_server(name: str = "up") -> Iterator[tuple[RunningServer, UpstreamState]]:
    state = UpstreamState(name=name)
    with uvicorn_thread(make_upstream(state)) as server:
        yield server, state


@contextlib.contextmanager
def gateway_server(
    tmp_path: Path, text: str, *, clock: Any = None, **settings: Any
) -> Iterator[tuple[RunningServer, Gateway]]:
    routing = tmp_path / "routing.yaml"
    routing.write_text(text)
    settings.setdefault("watch", False)
    config = GatewaySettings(routing_file=routing, **settings)
    kwargs: dict[str, Any] = {}
    if clock is not None:
        kwargs["clock"] = clock
        kwargs["table"] = parse_table(text, source=str(routing), clock=clock)
    gateway = Gateway(config, **kwargs)
    with uvicorn_thread(gateway, server_header=False, date_header=False, proxy_headers=False) as server:
        yield server, gateway


@contextlib.contextmanager
def raw_upstream(handler: Callable[..., object]) -> Iterator[int]:
    """A TCP server in a thread whose handler writes whatever bytes the test wants."""
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    servers: list[asyncio.base_events.Server] = []

    async def start() -> None:
        servers.append(await asyncio.start_server(handler, "127.0.0.1", port))  # type: ignore[arg-type]
        ready.set()

    thread = threading.Thread(
        target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True
    )
    thread.start()
    ready.wait(10)
    try:
        yield port
    finally:
        servers[0].close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
