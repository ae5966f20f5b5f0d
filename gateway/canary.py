"""Sticky canary: the same user always lands on the same side.

Each request is given an identity, the first of: the user inside the legacy session cookie
``mvidarr_session`` (the cookie's own value when its payload cannot be read), the ``sub`` of a
bearer JWT, the ``X-API-Key``, the client address. The identity hashes (BLAKE2b, stable across
processes and restarts, unlike ``hash()``) into one of 10,000 buckets; a request goes to the
target when its bucket is below ``percent * 100``. Raising the percent therefore only moves
buckets from legacy to the target, never back.

The JWT and the session cookie are read *without verification*: they only choose a bucket,
they never authorise anything. A forged token can at worst pick a side, which the override
header below allows trusted callers to do anyway.

``X-Figway-Target: legacy|target`` forces a side, but only with the admin token in
``X-Figway-Token`` or from a trusted network.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import ipaddress
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

BUCKETS = 10_000
SESSION_COOKIE = "mvidarr_session"
OVERRIDE_HEADER = b"x-figway-target"
TOKEN_HEADER = b"x-figway-token"

Headers = Sequence[tuple[bytes, bytes]]
"""ASGI raw headers: lower-case names, values as sent."""


class Side(enum.StrEnum):
    LEGACY = "legacy"
    TARGET = "target"


def bucket_of(identity: str) -> int:
    digest = hashlib.blake2b(identity.encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def side_for(bucket: int, percent: float) -> Side:
    return Side.TARGET if bucket < round(percent * 100) else Side.LEGACY


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def jwt_subject(token: str) -> str | None:
    """The ``sub`` claim of a JWT, read without verifying (for bucketing only)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(_b64decode(parts[1]))
    except (ValueError, binascii.Error):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return str(sub) if sub is not None else None


def flask_session_user(cookie_value: str) -> str | None:
    """The ``user_id`` inside a Flask (itsdangerous) session cookie, unverified.

    Flask re-signs the cookie (new timestamp, new value) whenever the session changes, so the
    raw value is a poor sticky key; the user id inside it is stable across logins.
    """
    compressed = cookie_value.startswith(".")
    payload = cookie_value[1:] if compressed else cookie_value
    head = payload.split(".", 1)[0]
    try:
        raw = _b64decode(head)
        if compressed:
            raw = zlib.decompress(raw)
        data = json.loads(raw)
    except (ValueError, binascii.Error, zlib.error):
        return None
    user = data.get("user_id") if isinstance(data, dict) else None
    return str(user) if user is not None else None


def _cookie(header_value: str, name: str) -> str | None:
    for item in header_value.split(";"):
        key, sep, value = item.strip().partition("=")
        if sep and key == name:
            return value.strip('"')
    return None


def identity_of(headers: Headers, client_host: str | None) -> str:
    """The sticky key of a request, prefixed by its kind so kinds never collide."""
    cookie_header = authorization = api_key = None
    for name, value in headers:
        if name == b"cookie":
            cookie_header = value.decode("latin-1") if cookie_header is None else cookie_header
        elif name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"x-api-key":
            api_key = value.decode("latin-1")
    if cookie_header is not None:
        session = _cookie(cookie_header, SESSION_COOKIE)
        if session:
            user = flask_session_user(session)
            return f"user:{user}" if user is not None else f"session:{session}"
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token:
            sub = jwt_subject(token.strip())
            if sub is not None:
                return f"user:{sub}"
    if api_key:
        return f"apikey:{api_key}"
    return f"addr:{client_host or 'unknown'}"


def sticky_side(headers: Headers, client_host: str | None, percent: float) -> Side:
    if percent <= 0:
        return Side.LEGACY
    if percent >= 100:
        return Side.TARGET
    return side_for(bucket_of(identity_of(headers, client_host)), percent)


@dataclass(frozen=True)
class OverridePolicy:
    """Who may force a side with ``X-Figway-Target``."""

    admin_token: str | None = None
    trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def build(cls, admin_token: str | None, trusted: Iterable[str] = ()) -> OverridePolicy:
        return cls(admin_token or None, tuple(ipaddress.ip_network(net, strict=False) for net in trusted))

    @property
    def active(self) -> bool:
        """False when nobody may override: the header need not even be looked for."""
        return bool(self.admin_token or self.trusted)

    def _is_trusted(self, client_host: str | None) -> bool:
        if not self.trusted or not client_host:
            return False
        try:
            address = ipaddress.ip_address(client_host)
        except ValueError:
            return False
        return any(address in net for net in self.trusted)

    def forced_side(self, headers: Headers, client_host: str | None) -> Side | None:
        """The side the request asks for, if it asks and is allowed to; else ``None``."""
        wanted = token = None
        for name, value in headers:
            if name == OVERRIDE_HEADER:
                wanted = value.decode("latin-1").strip().lower()
            elif name == TOKEN_HEADER:
                token = value
        if wanted not in (Side.LEGACY, Side.TARGET):
            return None
        allowed = self._is_trusted(client_host)
        if not allowed and self.admin_token and token is not None:
            allowed = hmac.compare_digest(token, self.admin_token.encode())
        return Side(wanted) if allowed else None
