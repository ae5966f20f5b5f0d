"""Header rewriting for the hot path: plain functions over bytes pairs (RFC 9110 7.6.1)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from random import getrandbits

#: Hop-by-hop headers (RFC 9110 7.6.1), plus ``expect``: the server in front of us already answered
#: ``100 Continue``, and the upstream gets the body without waiting for one.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"expect",
    }
)
#: Meant for the gateway only (the admin token that allows X-Figway-Target), or set only by it (the
#: mirror mark: a client must not pass its request off as a shadow copy): never forwarded.
GATEWAY_ONLY = frozenset({b"x-figway-token", b"x-figway-shadow"})
#: Request headers that never reach an upstream.
UPSTREAM_DROP = HOP_BY_HOP | GATEWAY_ONLY
#: Set by the gateway itself on the way in.
FORWARDED = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host"})
_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:@/+=-]{1,200}$")


def connection_tokens(value: bytes) -> frozenset[bytes]:
    """Header names listed in a ``Connection`` header (they are hop-by-hop too)."""
    return frozenset(token.strip().lower() for token in value.split(b",") if token.strip())


def new_request_id() -> str:
    # A correlation id needs to be unique, not secret: 128 random bits without a system call.
    return f"{getrandbits(128):032x}"


def valid_request_id(value: bytes) -> bool:
    return _REQUEST_ID.match(value) is not None


def response_headers(
    raw: Iterable[tuple[bytes, bytes]], request_id_name: bytes
) -> tuple[list[tuple[bytes, bytes]], bool]:
    """Strip hop-by-hop headers from an upstream response; also say whether it carried a request id."""
    pairs = list(raw)
    drop = HOP_BY_HOP
    for name, value in pairs:
        if name.lower() == b"connection":
            drop = drop | connection_tokens(value)
    out: list[tuple[bytes, bytes]] = []
    has_request_id = False
    for name, value in pairs:
        lower = name.lower()
        if lower in drop:
            continue
        if lower == request_id_name:
            has_request_id = True
        out.append((lower, value))
    return out, has_request_id
