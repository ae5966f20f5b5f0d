"""Read (and write) the legacy Flask session cookie without importing Flask.

Flask signs its session with itsdangerous' `URLSafeTimedSerializer` (salt "cookie-session",
HMAC key derivation, SHA-1) over a "tagged JSON" payload (flask/json/tag.py): plain JSON,
except that a few Python types are wrapped in one-key objects such as `{" t": [...]}`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.http import dump_cookie

SALT = "cookie-session"
_TAGS = frozenset({" di", " d", " t", " u", " b", " m"})


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in _TAGS:
            ((key, inner),) = value.items()
            if key == " t":
                return tuple(_untag(v) for v in inner)
            if key == " u":
                return uuid.UUID(inner)
            if key == " b":
                return base64.b64decode(inner)
            if key == " m":
                return str(inner)
            if key == " d":
                return parsedate_to_datetime(inner)
            if key == " di":  # a one-key dict whose key looks like a tag: key + "__"
                return {k[:-2]: _untag(v) for k, v in inner.items()}
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


def _tag(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in _TAGS:
            ((key, inner),) = value.items()
            return {" di": {f"{key}__": _tag(inner)}}
        return {k: _tag(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return {" t": [_tag(v) for v in value]}
    if isinstance(value, bytes):
        return {" b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, uuid.UUID):
        return {" u": value.hex}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    if hasattr(value, "utctimetuple"):
        return {" d": format_datetime(value, usegmt=True)}
    return value


class TaggedJSON:
    """The `serializer` itsdangerous calls: compatible with flask.json.tag.TaggedJSONSerializer."""

    @staticmethod
    def dumps(value: Any) -> str:
        # Flask's JSON provider sorts keys: a re-sent session is Flask's bytes whatever the
        # order the cookie arrived in (a client could otherwise tell which side answered).
        return json.dumps(_tag(value), separators=(",", ":"), sort_keys=True)

    @staticmethod
    def loads(value: str | bytes) -> Any:
        return _untag(json.loads(value))


def session_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret_key,
        salt=SALT,
        serializer=TaggedJSON,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


def load_session(cookie: str, *, secret_key: str, max_age: int) -> dict[str, Any]:
    """The session dict, or `{}` when the cookie is missing, forged, expired or malformed."""
    if not cookie:
        return {}
    try:
        data = session_serializer(secret_key).loads(cookie, max_age=max_age)
    except (BadSignature, ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def dump_session(data: dict[str, Any], *, secret_key: str) -> str:
    value = session_serializer(secret_key).dumps(data)
    return value if isinstance(value, str) else value.decode("ascii")


def session_set_cookie(value: str, *, name: str, lifetime_seconds: int, secure: bool) -> str:
    """The Set-Cookie value of a permanent session, written by werkzeug's own cookie writer so the
    header is byte for byte the one Flask sends."""
    return dump_cookie(
        name,
        value,
        expires=datetime.now(UTC) + timedelta(seconds=lifetime_seconds),
        path="/",
        secure=secure,
        httponly=True,
        samesite="Lax",
    )
