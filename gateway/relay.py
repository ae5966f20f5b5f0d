"""Relay an upstream's answer to the client: small bodies in one message, the rest as it arrives.

Bodies are never buffered beyond one chunk, except responses up to ``SMALL_BODY`` bytes (by
Content-Length), which are read whole and sent in one message. A copy of the body (up to
``COPY_LIMIT``) is kept when a shadow diff or an observer wants it; the client never waits for it.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import UpstreamError
from gateway.exchange import Exchange
from gateway.hooks import COPY_LIMIT
from gateway.transport.base import UpstreamResponse

#: Responses up to this size (by Content-Length) are read whole and sent in one message.
SMALL_BODY = 64 * 1024
NO_BODY_STATUS = frozenset({204, 304})


async def relay(
    response: UpstreamResponse,
    exchange: Exchange,
    headers: list[tuple[bytes, bytes]],
    *,
    keep_copy: bool,
    log: Any,
) -> int:
    """Send the answer to ``exchange``'s client; returns its status. Upstream failures after the
    headers cut it short."""
    send = exchange.send
    head_request = exchange.scope["method"] == "HEAD"
    status = response.status
    if head_request or status in NO_BODY_STATUS:
        exchange.finish()
        exchange.started = True
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        if keep_copy:
            exchange.copy = []
        return status
    length = response.content_length
    if length is not None and length <= SMALL_BODY:
        body = await response.read()  # an error here still allows a clean 502 (nothing sent yet)
        exchange.finish()
        exchange.started = True
        await send({"type": "http.response.start", "status": status, "headers": headers})
        exchange.bytes_out = len(body)
        await send({"type": "http.response.body", "body": body})
        if keep_copy:
            exchange.copy = [body]
        return status
    exchange.started = True
    await send({"type": "http.response.start", "status": status, "headers": headers})
    kept: list[bytes] | None = [] if keep_copy else None
    try:
        while True:
            chunk = await response.readany()
            if not chunk:
                break
            exchange.bytes_out += len(chunk)
            if kept is not None:
                kept = kept if exchange.bytes_out <= COPY_LIMIT else None
                if kept is not None:
                    kept.append(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except (TimeoutError, UpstreamError):
        # Headers are out: the only honest signal left is to cut the response short.
        upstream = exchange.upstream.name if exchange.upstream is not None else None
        log.warning("proxy.upstream_aborted", request_id=exchange.request_id, upstream=upstream)
        exchange.finish()
        return status
    exchange.finish()
    await send({"type": "http.response.body", "body": b""})
    exchange.copy = kept
    return status
