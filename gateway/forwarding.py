"""The request headers an upstream gets: one builder for forwarded, WebSocket and mirrored requests.

Hop-by-hop headers go (RFC 9110 7.6.1), and so do the names the client lists in ``Connection``,
except the ones that are never hop-by-hop: ``Host`` (it names the resource, RFC 9110 7.2) and
``Content-Length`` (it frames the body). A request with two ``Host`` headers is refused
(RFC 9112 3.2: a server must answer 400). ``X-Forwarded-*`` carry the real TCP peer; a trusted
proxy's values are extended, anyone else's replaced. A mirrored (shadow) request is built here
too, for the target upstream, and marked with ``X-Figway-Shadow: 1``. Every one carries the
request's W3C ``traceparent`` (:mod:`gateway.tracing`): the gateway's span for a forward, a span of
its own for a mirror; the client's ``traceparent`` is replaced, its ``tracestate`` kept.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.compiler import CompiledUpstream
from gateway.headers import FORWARDED, UPSTREAM_DROP, connection_tokens
from gateway.settings import Network
from gateway.tracing import TRACEPARENT, TraceContext
from gateway.types import Scope

#: Never removed because ``Connection`` lists them: the request would lose its target or framing.
NEVER_HOP_BY_HOP = frozenset({b"host", b"content-length"})
MIRROR_HEADER = b"x-figway-shadow"


class DuplicateHost(ValueError):
    """Two Host headers: the request is ambiguous about its target (400)."""


@dataclass(slots=True)
class RequestHead:
    """The rewritten headers plus what the header pass learnt about the request."""

    headers: list[tuple[bytes, bytes]]
    #: Bytes of the client's header block (for the 431 limit).
    size: int
    #: The declared Content-Length (-1 when unreadable), None when absent or chunked wins.
    length: int | None
    chunked: bool

    @property
    def has_body(self) -> bool:
        return self.chunked or (self.length is not None and self.length > 0)


class HeaderRewriter:
    """Builds upstream request headers; one per gateway (it caches which peers are trusted)."""

    __slots__ = ("_rid_name", "_trusted", "_trusted_cache")

    def __init__(self, *, trusted_proxies: Sequence[Network], request_id_name: bytes) -> None:
        self._trusted = tuple(trusted_proxies)
        self._trusted_cache: dict[str, bool] = {}
        self._rid_name = request_id_name

    def is_trusted(self, peer: str) -> bool:
        if not self._trusted:
            return False
        known = self._trusted_cache.get(peer)
        if known is None:
            try:
                address = ipaddress.ip_address(peer)
                known = any(address in network for network in self._trusted)
            except ValueError:
                known = False
            if len(self._trusted_cache) < 4096:
                self._trusted_cache[peer] = known
        return known

    def build(
        self,
        scope: Scope,
        upstream: CompiledUpstream,
        request_id: str,
        *,
        websocket: bool = False,
        mirror: bool = False,
        trace: TraceContext | None = None,
    ) -> RequestHead:
        raw: list[tuple[bytes, bytes]] = scope["headers"]
        drop = UPSTREAM_DROP
        size = 0
        chunked = False
        hosts = 0
        for name, value in raw:
            size += len(name) + len(value) + 4
            if name == b"connection":
                drop = drop | (connection_tokens(value) - NEVER_HOP_BY_HOP)
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"host":
                hosts += 1
        if hosts > 1:
            raise DuplicateHost("a request may carry one Host header")
        client = scope.get("client")
        peer: str = client[0] if client else ""
        trusted = self.is_trusted(peer) if peer else False
        out: list[tuple[bytes, bytes]] = []
        host = b""
        forwarded_for = b""
        proto = b""
        fwd_host = b""
        length: int | None = None
        rid_name = self._rid_name
        for name, value in raw:
            if name in drop:
                continue
            if name == b"host":
                host = value
                continue
            if name in FORWARDED:
                if trusted:
                    if name == b"x-forwarded-for":
                        forwarded_for = value
                    elif name == b"x-forwarded-proto":
                        proto = value
                    else:
                        fwd_host = value
                continue
            if name in (rid_name, TRACEPARENT):
                continue
            if name == b"content-length":
                if chunked or mirror:
                    continue  # both framings sent: chunked wins (RFC 9112 6.3), the length goes
                try:
                    length = int(value)
                except ValueError:
                    length = -1
            elif websocket and name.startswith(b"sec-websocket-"):
                continue
            out.append((name, value))
        if upstream.host_header is not None:
            out.append((b"host", upstream.host_header.encode("latin-1")))
        elif host and not mirror:
            out.append((b"host", host))
        if peer:
            address = peer.encode("latin-1")
            forwarded_for = forwarded_for + b", " + address if forwarded_for else address
        if forwarded_for:
            out.append((b"x-forwarded-for", forwarded_for))
        out.append((b"x-forwarded-proto", proto or scope.get("scheme", "http").encode("latin-1")))
        if fwd_host or host:
            out.append((b"x-forwarded-host", fwd_host or host))
        out.append((rid_name, request_id.encode("latin-1")))
        if trace is not None:
            out.append((TRACEPARENT, trace.mirror_traceparent() if mirror else trace.traceparent()))
        if mirror:
            out.append((MIRROR_HEADER, b"1"))
        return RequestHead(out, size, length, chunked)
