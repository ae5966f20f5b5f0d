"""The clients per upstream: the HTTP/1.1 pool and an aiohttp session (WebSockets, or by choice).

Clients are created lazily on the event loop and keyed by the upstream's pool settings, so a
reload that leaves an upstream unchanged keeps its warm keep-alive connections.
"""

from __future__ import annotations

import aiohttp

from gateway.compiler import CompiledUpstream
from gateway.transport.aiohttp_client import AiohttpTransport, make_session
from gateway.transport.base import Transport
from gateway.transport.http1 import Http1Pool


class UpstreamPool:
    """Clients by upstream; closed together at shutdown."""

    def __init__(self, *, native: bool = True) -> None:
        self._native = native
        self._sessions: dict[tuple[object, ...], aiohttp.ClientSession] = {}
        self._http1: dict[tuple[object, ...], Http1Pool] = {}

    def transport(self, upstream: CompiledUpstream) -> Transport:
        """The forwarding client for ``upstream`` (the HTTP/1.1 pool unless aiohttp was chosen)."""
        if self._native:
            return self.http1(upstream)
        return AiohttpTransport(upstream, self.session(upstream))

    def http1(self, upstream: CompiledUpstream) -> Http1Pool:
        key = upstream.pool_key
        pool = self._http1.get(key)
        if pool is None:
            pool = self._http1[key] = Http1Pool(upstream)
        return pool

    def session(self, upstream: CompiledUpstream) -> aiohttp.ClientSession:
        key = upstream.pool_key
        session = self._sessions.get(key)
        if session is None or session.closed:
            session = self._sessions[key] = make_session(upstream)
        return session

    async def close(self) -> None:
        pools, self._http1 = list(self._http1.values()), {}
        for pool in pools:
            pool.close()
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()
