"""WebSocket pass-through: the upgrade goes to the matched upstream and frames are relayed both ways."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp
from yarl import URL

from gateway.forwarding import DuplicateHost
from gateway.paths import UnsafePath, split_path
from gateway.proxy import Proxy
from gateway.types import Receive, Scope, Send

#: Close codes: 1011 internal error (upstream failed), 1008 policy violation (unsafe path).
CLOSE_UPSTREAM_FAILED = 1011
CLOSE_POLICY = 1008


async def proxy_websocket(proxy: Proxy, scope: Scope, receive: Receive, send: Send) -> None:
    started = time.perf_counter()
    table = proxy.tables.table
    request_id, trace = proxy.identify(scope)
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    try:
        forward_path, parts = split_path(raw_path.split(b"?", 1)[0], scope["path"])
    except UnsafePath:
        await send({"type": "websocket.close", "code": CLOSE_POLICY})
        return
    decision = proxy.decider.decide_request(table, "GET", parts, scope)
    upstream = table.upstreams[decision.upstream]
    try:
        head = proxy.rewriter.build(scope, upstream, request_id, websocket=True, trace=trace)
    except DuplicateHost:
        await send({"type": "websocket.close", "code": CLOSE_POLICY})
        return
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in head.headers]
    url = URL.build(
        scheme="wss" if upstream.scheme == "https" else "ws",
        host=upstream.host,
        port=upstream.port,
        path=forward_path.decode("latin-1"),
        query_string=scope.get("query_string", b"").decode("latin-1"),
        encoded=True,
    )
    session = proxy.pool.session(upstream)
    status = 101
    try:
        upstream_ws = await session.ws_connect(
            url,
            headers=headers,
            protocols=tuple(scope.get("subprotocols") or ()),
            max_msg_size=0,
            autoping=True,
        )
    except (TimeoutError, aiohttp.ClientError) as exc:
        status = 504 if isinstance(exc, asyncio.TimeoutError) else 502
        proxy.metrics.error(decision.route_id, decision.upstream, "websocket_connect")
        await send({"type": "websocket.close", "code": CLOSE_UPSTREAM_FAILED})
        proxy.log.warning(
            "proxy.websocket_failed",
            request_id=request_id,
            route=decision.route_id,
            upstream=decision.upstream,
        )
        proxy.metrics.observe(decision.route_id, decision.mode, decision.upstream, status, 0.0, None)
        return
    accept_headers = proxy.gateway_headers(decision, request_id)
    await send({"type": "websocket.accept", "subprotocol": upstream_ws.protocol, "headers": accept_headers})

    async def client_to_upstream() -> None:
        while True:
            event = await receive()
            if event["type"] == "websocket.receive":
                if event.get("text") is not None:
                    await upstream_ws.send_str(event["text"])
                else:
                    await upstream_ws.send_bytes(event.get("bytes") or b"")
            elif event["type"] == "websocket.disconnect":
                await upstream_ws.close(code=event.get("code", 1000))
                return

    async def upstream_to_client() -> None:
        async for frame in upstream_ws:
            if frame.type == aiohttp.WSMsgType.TEXT:
                await send({"type": "websocket.send", "text": frame.data})
            elif frame.type == aiohttp.WSMsgType.BINARY:
                await send({"type": "websocket.send", "bytes": frame.data})
            else:
                break
        code = upstream_ws.close_code or 1000
        with contextlib.suppress(Exception):
            await send({"type": "websocket.close", "code": code})

    tasks = [asyncio.ensure_future(client_to_upstream()), asyncio.ensure_future(upstream_to_client())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await upstream_ws.close()
        proxy.metrics.observe(
            decision.route_id, decision.mode, decision.upstream, status, time.perf_counter() - started, None
        )
