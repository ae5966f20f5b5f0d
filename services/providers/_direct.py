"""Provider requests straight on one shared aiohttp session (the default transport).

Why not httpx over an aiohttp transport (as before): measured under the enrichment bench,
httpx's client layers (request building, header merging, auth and redirect flows, the
response model) cost about as much CPU per provider call as aiohttp's own I/O, and an
enrichment makes five calls. Here a call is: the URL and headers built once, one aiohttp
request, the body read, a small response object. What the provider receives is what httpx
sent: the same query encoding (`urllib.parse.urlencode`, httpx's own), the same default
headers, the same timeouts (connect, pool, read), no cookies kept.

Errors come out as httpx's exception classes, so the channel's retry policy and its messages
("IMVDb request failed: ConnectError") are the same whichever transport runs
(`provider_transport = "httpx"` keeps httpx's own, which respx intercepts in unit tests).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlencode

import aiohttp
import httpx
from yarl import URL

from services._legacy_json import loads

# httpx's default request headers (Host is added by aiohttp), then the client's User-Agent.
# gzip and deflate are what httpx advertises without brotli/zstd installed; aiohttp decodes
# them (and only them: it advertises nothing itself here).
BASE_HEADERS = (("Accept", "*/*"), ("Accept-Encoding", "gzip, deflate"), ("Connection", "keep-alive"))
FORM = "application/x-www-form-urlencoded"
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


class ProviderResponse(Protocol):
    """What the typed clients and the channel read of an answer (httpx.Response has it too)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def json(self) -> Any: ...


class DirectResponse:
    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers  # aiohttp's case-insensitive multidict
        self.content = content

    def json(self) -> Any:
        # httpx.Response.json() is json.loads(content); this is the same values, by orjson
        # where it agrees with the stdlib (services/_legacy_json.py), the stdlib elsewhere.
        return loads(self.content)


def _text(value: Any) -> str:
    # httpx's primitive_value_to_str
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def full_url(url: str, params: Mapping[str, Any] | None) -> URL:
    """`url` with `params` encoded as httpx encodes them (quote_plus, `urlencode`)."""
    if params:
        query = urlencode([(k, _text(v)) for k, v in params.items()])
        url = f"{url}{'&' if '?' in url else '?'}{query}"
    # Only RFC 3986 characters: sent as given (the query above is already percent-encoded);
    # anything else (a space, a quote, non-ASCII in a path) is left to yarl to quote.
    return URL(url, encoded=_URI_CHARS.fullmatch(url) is not None)


class DirectSender:
    def __init__(self, *, max_connections: int, user_agent: str, timeout: httpx.Timeout) -> None:
        self._max_connections = max_connections
        self._headers = (*BASE_HEADERS, ("User-Agent", user_agent))
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout.pool, sock_connect=timeout.connect, sock_read=timeout.read
        )
        self._session: aiohttp.ClientSession | None = None
        self._tracer: Any = None

    def _client_session(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop (aiohttp binds a session to its loop).
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=30.0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # provider APIs use keys, never cookies
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    def _request_headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = dict(self._headers)
        if extra:
            lowered = {k.lower(): k for k in headers}
            for name, value in extra.items():
                headers.pop(lowered.get(name.lower(), name), None)
                headers[name] = value
        return headers

    def use_tracer(self, tracer: Any) -> None:
        """Make one OpenTelemetry client span per call (services/tracing.py; off by default)."""
        self._tracer = tracer

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> DirectResponse:
        sent = self._request_headers(headers)
        body = None
        if data is not None:
            body = urlencode(list(data.items())).encode()
            sent["Content-Type"] = FORM
        target = full_url(url, params)
        if self._tracer is None:
            return await self._exchange(method, target, sent, body)
        return await self._traced(method, target, sent, body)

    async def _traced(
        self, method: str, target: URL, sent: dict[str, str], body: bytes | None
    ) -> DirectResponse:
        from opentelemetry.propagate import inject
        from opentelemetry.trace import SpanKind, Status, StatusCode

        attributes = {
            "http.request.method": method,
            # Without the query: that is where the providers' keys travel.
            "url.full": str(target.with_query(None)),
            "server.address": target.host or "",
            "server.port": target.port or 0,
        }
        with self._tracer.start_as_current_span(method, kind=SpanKind.CLIENT, attributes=attributes) as span:
            inject(sent)  # traceparent: the provider call continues the caller's trace
            try:
                response = await self._exchange(method, target, sent, body)
            except httpx.HTTPError as exc:
                span.set_attribute("error.type", type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR))
                raise
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 400:
                span.set_attribute("error.type", str(response.status_code))
                span.set_status(Status(StatusCode.ERROR))
            return response

    async def _exchange(
        self, method: str, target: URL, sent: dict[str, str], body: bytes | None
    ) -> DirectResponse:
        try:
            async with self._client_session().request(
                method, target, headers=sent, data=body, allow_redirects=False, timeout=self._timeout
            ) as response:
                content = await response.read()
                return DirectResponse(response.status, response.headers, content)
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "connect timed out") from exc
        except (aiohttp.SocketTimeoutError, TimeoutError) as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out") from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise httpx.RemoteProtocolError(str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise httpx.NetworkError(str(exc)) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
