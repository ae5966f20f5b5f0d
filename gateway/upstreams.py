"""Pooled clients per upstream: the HTTP/1.1 forwarder and an aiohttp session (WebSockets, fallback).

Sessions are created lazily on the event loop and keyed by the upstream's pool settings, so a
reload that leaves an upstream unchanged keeps its warm keep-alive connections.
"""

from __future__ import annotations

import aiohttp

from gateway._http1 import Http1Pool
from gateway.compiler import CompiledUpstream

#: aiohttp would otherwise add these to forwarded requests; the client's own headers go through instead.
SKIP_AUTO_HEADERS = frozenset({"Accept", "Accept-Encoding", "User-Agent", "Content-Type"})
MAX_RESPONSE_HEADER_LINE = 64 * 1024


def _make_session(upstream: CompiledUpstream) -> aiohttp.ClientSession:
    timeouts = upstream.timeouts
    connector = aiohttp.TCPConnector(
        limit=upstream.max_connections,
        limit_per_host=0,
        keepalive_timeout=upstream.keepalive,
        ttl_dns_cache=300,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(
            total=None,
            # ``connect`` covers waiting for a pooled connection plus the TCP/TLS handshake.
            connect=timeouts.pool + timeouts.connect,
            sock_connect=timeouts.connect,
            sock_read=timeouts.read,
        ),
        auto_decompress=False,  # bytes pass through exactly; Content-Encoding stays the upstream's
        cookie_jar=aiohttp.DummyCookieJar(),  # a proxy must never keep one client's cookies for another
        skip_auto_headers=SKIP_AUTO_HEADERS,
        trust_env=False,
        max_line_size=MAX_RESPONSE_HEADER_LINE,
        max_field_size=MAX_RESPONSE_HEADER_LINE,
    )


class UpstreamPool:
    """Client sessions by upstream; closed together at shutdown."""

    def __init__(self) -> None:
        self._sessions: dict[tuple[object, ...], aiohttp.ClientSession] = {}
        self._http1: dict[tuple[object, ...], Http1Pool] = {}

    def http1(self, upstream: CompiledUpstream) -> Http1Pool:
        """The forwarding client (see ``gateway._http1``)."""
        key = upstream.pool_key
        pool = self._http1.get(key)
        if pool is None:
            pool = self._http1[key] = Http1Pool(upstream)
        return pool

    def session(self, upstream: CompiledUpstream) -> aiohttp.ClientSession:
        key = upstream.pool_key
        session = self._sessions.get(key)
        if session is None or session.closed:
            session = self._sessions[key] = _make_session(upstream)
        return session

    async def close(self) -> None:
        pools, self._http1 = list(self._http1.values()), {}
        for pool in pools:
            pool.close()
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()
