"""Whose budget a request spends: the client key of a rate-limit policy.

The client address honours the gateway's trusted proxies: ``X-Forwarded-For`` is believed only when
the TCP peer is trusted, and then read from the right, skipping trusted hops, so the first address
no trusted proxy vouches for is the client (a client cannot pick its own budget by sending the
header itself). Keys are prefixed by their kind so an API key can never collide with an address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from gateway.canary import SESSION_COOKIE, flask_session_user, jwt_subject

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Headers = Sequence[tuple[bytes, bytes]]


class ClientAddress:
    """The client address of a request, given the trusted proxies (cached per peer)."""

    def __init__(self, trusted: Sequence[Network] = ()) -> None:
        self._trusted = tuple(trusted)
        self._cache: dict[str, bool] = {}

    def _is_trusted(self, address: str) -> bool:
        known = self._cache.get(address)
        if known is None:
            try:
                parsed = ipaddress.ip_address(address)
            except ValueError:
                known = False
            else:
                known = any(parsed in network for network in self._trusted)
            if len(self._cache) < 4096:
                self._cache[address] = known
        return known

    def of(self, headers: Headers, peer: str | None) -> str:
        peer = peer or "unknown"
        if not self._trusted or not self._is_trusted(peer):
            return peer
        hops: list[str] = []
        for name, value in headers:
            if name == b"x-forwarded-for":
                hops.extend(part.strip() for part in value.decode("latin-1").split(","))
        client = peer
        for hop in reversed(hops):
            if not hop:
                continue
            client = hop
            if not self._is_trusted(hop):
                break
        return client


def _cookie(header_value: str, name: str) -> str | None:
    for item in header_value.split(";"):
        key, sep, value = item.strip().partition("=")
        if sep and key == name:
            return value.strip('"')
    return None


def user_of(headers: Headers) -> str | None:
    """The session user or bearer JWT subject, unverified (it only picks a budget)."""
    for name, value in headers:
        if name == b"cookie":
            session = _cookie(value.decode("latin-1"), SESSION_COOKIE)
            user = flask_session_user(session) if session else None
            if user is not None:
                return user
        elif name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                sub = jwt_subject(token.strip())
                if sub is not None:
                    return sub
    return None


def header_of(headers: Headers, wanted: bytes) -> str | None:
    for name, value in headers:
        if name == wanted and value.strip():
            return value.decode("latin-1").strip()
    return None


def client_key(kind: str, headers: Headers, address: str) -> str:
    """The budget a request spends under a policy keyed by ``kind`` (see ``policy.RateLimit.key``)."""
    if kind == "user":
        user = user_of(headers)
        if user is not None:
            return f"user:{user}"
    elif kind == "api_key":
        api_key = header_of(headers, b"x-api-key")
        if api_key is not None:
            return f"apikey:{api_key}"
    elif kind.startswith("header:"):
        value = header_of(headers, kind[7:].encode("latin-1"))
        if value is not None:
            return f"{kind}={value}"
    return f"addr:{address}"
