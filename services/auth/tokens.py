"""Access tokens (JWT, python-jose) and opaque secrets (refresh tokens, API keys).

The algorithm is pinned by settings: a token is decoded only with that one algorithm, so
`alg: none` and HS/RS confusion (an RS public key used as an HMAC secret) are refused before
any signature check. Claims: iss, aud, sub (user id), role, exp, iat, nbf, jti, and `fam`,
the refresh-token family the token was issued with (logout of that family revokes it), and
`sid`, the `user_sessions` row of the login it belongs to (ending that session ends the token).
An `iat` later than now plus the leeway is refused.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import JWTError, jwt

from services.models import UserRole
from services.settings import Settings

REQUIRED_CLAIMS = ("iss", "aud", "sub", "role", "exp", "iat", "nbf", "jti")
API_KEY_PREFIX = "fgw_"


class TokenError(Exception):
    """A token that does not authenticate anyone (reason safe to log, never the token)."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    role: UserRole
    jti: str
    family_id: str | None
    expires_at: datetime
    session_id: int | None = None


class JwtCodec:
    """Issues and verifies access tokens with the configured algorithm and keys."""

    def __init__(self, settings: Settings) -> None:
        self.algorithm = settings.jwt_algorithm
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.leeway = settings.jwt_leeway_seconds
        self.ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        if self.algorithm.startswith("HS"):
            self._signing_key: str = settings.jwt_hmac_key
            self._verify_key: str = self._signing_key
        else:
            assert settings.jwt_private_key is not None and settings.jwt_public_key is not None
            self._signing_key = settings.jwt_private_key.get_secret_value()
            self._verify_key = settings.jwt_public_key

    def issue(
        self,
        *,
        user_id: int,
        role: UserRole,
        family_id: str | None,
        session_id: int | None = None,
        now: datetime | None = None,
    ) -> str:
        now = now or datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "role": role.value,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        if family_id is not None:
            claims["fam"] = family_id
        if session_id is not None:
            claims["sid"] = session_id
        token: str = jwt.encode(claims, self._signing_key, algorithm=self.algorithm)
        return token

    def decode(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise TokenError("malformed token") from exc
        if header.get("alg") != self.algorithm:
            raise TokenError("unexpected algorithm")
        try:
            claims = jwt.decode(
                token,
                self._verify_key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={"leeway": self.leeway, **{f"require_{c}": True for c in REQUIRED_CLAIMS}},
            )
        except JWTError as exc:  # ExpiredSignatureError and JWTClaimsError are JWTErrors
            raise TokenError(type(exc).__name__) from exc
        try:
            # jose checks only that `iat` is a number: a token "issued" later than now (plus
            # the leeway) was not issued by us, or by a clock that cannot be trusted.
            if int(claims["iat"]) > datetime.now(UTC).timestamp() + self.leeway:
                raise TokenError("issued in the future")
            user_id = int(claims["sub"])
            role = UserRole(claims["role"])
            family = claims.get("fam")
            sid = claims.get("sid")
            return AccessClaims(
                session_id=sid if isinstance(sid, int) and not isinstance(sid, bool) else None,
                user_id=user_id,
                role=role,
                jti=str(claims["jti"]),
                family_id=family if isinstance(family, str) else None,
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise TokenError("bad claims") from exc


def new_secret() -> str:
    """An opaque, unguessable token (256 bits)."""
    return secrets.token_urlsafe(32)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What we store instead of a secret: its sha256, hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
