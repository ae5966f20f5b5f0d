"""aiohttp as a :class:`~gateway.transport.base.Transport` (``GATEWAY_UPSTREAM_CLIENT=aiohttp``).

aiohttp's exceptions are translated at this boundary, grouped by the status the client gets
(504 for timeouts, 502 for the rest); a connect failure says the request never left.
"""

from __future__ import annotations

import asyncio

import aiohttp
from yarl import URL

from gateway.compiler import CompiledUpstream
from gateway.errors import UpstreamConnectError, UpstreamError, UpstreamProtocolError, UpstreamTimeout
from gateway.transport.base import UpstreamRequest

#: aiohttp would otherwise add these to forwarded requests; the client's own headers go through instead.
SKIP_AUTO_HEADERS = frozenset({"Accept", "Accept-Encoding", "User-Agent", "Content-Type"})
MAX_RESPONSE_HEADER_LINE = 64 * 1024


def translate(exc: BaseException) -> UpstreamError:
    """aiohttp's exceptions, grouped by the status the client gets."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        error: UpstreamError = UpstreamTimeout("the upstream did not accept a connection in time")
        error.reached = False
    elif isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        error = UpstreamTimeout("the upstream did not answer in time")
    elif isinstance(exc, aiohttp.ClientConnectorError):
        error = UpstreamConnectError("the upstream could not be reached")
        error.reached = False
    else:
        error = UpstreamProtocolError("the upstream connection failed")
    error.__cause__ = exc
    return error


def make_session(upstream: CompiledUpstream) -> aiohttp.ClientSession:
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


class AiohttpResponse:
    """aiohttp's response in the transport's shape, errors translated."""

    __slots__ = ("_response", "content_length", "raw_headers", "status")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.raw_headers = response.raw_headers
        self.content_length = response.content_length

    async def read(self) -> bytes:
        try:
            return await self._response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise translate(exc) from exc

    async def readany(self) -> bytes:
        try:
            return await self._response.content.readany()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise translate(exc) from exc

    def release(self) -> None:
        self._response.release()


class AiohttpTransport:
    def __init__(self, upstream: CompiledUpstream, session: aiohttp.ClientSession) -> None:
        self._upstream = upstream
        self._session = session

    async def send(self, request: UpstreamRequest) -> AiohttpResponse:
        upstream = self._upstream
        path, _, query = request.target.partition(b"?")
        url = URL.build(
            scheme=upstream.scheme,
            host=upstream.host,
            port=upstream.port,
            path=path.decode("latin-1"),
            query_string=query.decode("latin-1"),
            encoded=True,
        )
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers]
        try:
            response = await self._session.request(
                request.method, url, headers=headers, data=request.body, allow_redirects=False
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise translate(exc) from exc
        return AiohttpResponse(response)
