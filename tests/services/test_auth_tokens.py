"""Access tokens: what a forger can try, and that each attempt is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwt
from pydantic import SecretStr, ValidationError

from services.auth.tokens import JwtCodec, TokenError, digest, new_api_key, new_secret
from services.models import UserRole
from services.settings import Settings

SECRET = "unit-test-jwt-secret"


def _codec(**overrides: object) -> JwtCodec:
    values: dict[str, object] = {"jwt_secret": SecretStr(SECRET)}
    values.update(overrides)
    return JwtCodec(Settings(**values))  # type: ignore[arg-type]


def _claims(**overrides: object) -> dict[str, object]:
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, object] = {
        "iss": "figway-services",
        "aud": "figway",
        "sub": "1",
        "role": "ADMIN",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "j1",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_issued_token_round_trips_with_user_role_and_family() -> None:
    codec = _codec()
    token = codec.issue(user_id=7, role=UserRole.MANAGER, family_id="fam-1")
    claims = codec.decode(token)
    assert (claims.user_id, claims.role, claims.family_id) == (7, UserRole.MANAGER, "fam-1")
    raw = jwt.get_unverified_claims(token)
    assert set(raw) == {"iss", "aud", "sub", "role", "iat", "nbf", "exp", "jti", "fam"}
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_alg_none_token_is_refused() -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."
    with pytest.raises(TokenError):
        _codec().decode(token)


def test_token_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(TokenError):
        _codec().decode(jwt.encode(_claims(), "not-the-secret", algorithm="HS256"))


def test_tampered_payload_is_refused() -> None:
    token = _codec().issue(user_id=3, role=UserRole.USER, family_id=None)
    header, _, signature = token.split(".")
    forged = f"{header}.{_b64(_claims(sub='1', role='ADMIN'))}.{signature}"
    with pytest.raises(TokenError):
        _codec().decode(forged)


def test_other_hmac_algorithm_is_refused_even_with_the_right_secret() -> None:
    with pytest.raises(TokenError, match="unexpected algorithm"):
        _codec().decode(jwt.encode(_claims(), SECRET, algorithm="HS512"))


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        (_claims(exp=int(datetime.now(UTC).timestamp()) - 3600), "expired"),
        (_claims(nbf=int(datetime.now(UTC).timestamp()) + 3600), "not yet valid"),
        (_claims(aud="someone-else"), "wrong audience"),
        (_claims(iss="evil-issuer"), "wrong issuer"),
        (_claims(jti=None), "no jti"),
        (_claims(exp=None), "no exp"),
        (_claims(role="SUPERUSER"), "unknown role"),
        (_claims(sub="admin"), "non-numeric subject"),
    ],
)
def test_token_with_bad_claims_is_refused(claims: dict[str, object], why: str) -> None:
    with pytest.raises(TokenError):
        _codec().decode(jwt.encode(claims, SECRET, algorithm="HS256"))


def test_expiry_within_leeway_is_still_accepted() -> None:
    claims = _claims(exp=int(datetime.now(UTC).timestamp()) - 2)
    assert _codec(jwt_leeway_seconds=30).decode(jwt.encode(claims, SECRET, algorithm="HS256")).user_id == 1


def test_rs256_tokens_verify_with_the_public_key() -> None:
    private, public = _rsa_pair()
    codec = _codec(jwt_algorithm="RS256", jwt_private_key=SecretStr(private), jwt_public_key=public)
    token = codec.issue(user_id=2, role=UserRole.USER, family_id=None)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert codec.decode(token).user_id == 2


def test_hs256_token_keyed_with_the_rs_public_key_is_refused() -> None:
    """Algorithm confusion: the attacker knows the public key and signs HS256 with it."""
    private, public = _rsa_pair()
    codec = _codec(jwt_algorithm="RS256", jwt_private_key=SecretStr(private), jwt_public_key=public)
    header = _b64({"alg": "HS256", "typ": "JWT"})
    payload = _b64(_claims())
    mac = hmac.new(public.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(TokenError):
        codec.decode(forged)


def test_es256_is_supported_and_keys_are_not_interchangeable() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    codec = _codec(jwt_algorithm="ES256", jwt_private_key=SecretStr(private), jwt_public_key=public)
    assert codec.decode(codec.issue(user_id=4, role=UserRole.READONLY, family_id=None)).user_id == 4
    other_private, other_public = _rsa_pair()
    rs = _codec(jwt_algorithm="RS256", jwt_private_key=SecretStr(other_private), jwt_public_key=other_public)
    with pytest.raises(TokenError):
        codec.decode(rs.issue(user_id=4, role=UserRole.ADMIN, family_id=None))


def test_settings_refuse_unknown_algorithms_and_missing_keys() -> None:
    with pytest.raises(ValidationError):
        Settings(jwt_algorithm="none")
    with pytest.raises(ValidationError):
        Settings(jwt_algorithm="EdDSA")
    with pytest.raises(ValidationError):
        Settings(jwt_algorithm="RS256")


def test_settings_refuse_a_wildcard_origin_with_credentials() -> None:
    with pytest.raises(ValidationError):
        Settings(cors_origins=("*",))
    assert Settings(cors_origins=("*",), cors_allow_credentials=False).cors_origins == ("*",)


def test_secrets_are_random_and_stored_only_as_sha256() -> None:
    assert new_secret() != new_secret()
    key = new_api_key()
    assert key.startswith("fgw_") and len(key) > 40
    assert digest(key) == digest(key) and len(digest(key)) == 64 and key not in digest(key)


def test_token_expiry_claim_matches_configured_ttl() -> None:
    codec = _codec(access_token_ttl_seconds=120)
    now = datetime.now(UTC).replace(microsecond=0)
    claims = codec.decode(codec.issue(user_id=1, role=UserRole.ADMIN, family_id=None, now=now))
    assert claims.expires_at == now + timedelta(seconds=120)


def test_settings_refuse_a_malformed_trusted_proxy() -> None:
    with pytest.raises(ValidationError):
        Settings(trusted_proxies=("10.0.0.0/33",))
    assert Settings(trusted_proxies=("10.0.0.0/8", "::1")).trusted_proxies == ("10.0.0.0/8", "::1")
