from __future__ import annotations

import base64
import json
import zlib

from gateway.canary import (
    BUCKETS,
    OverridePolicy,
    Side,
    bucket_of,
    flask_session_user,
    identity_of,
    jwt_subject,
    side_for,
    sticky_side,
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims: dict[str, object]) -> str:
    header = _b64(json.dumps({"alg": "HS256"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}.signature"


def _flask_cookie(data: dict[str, object], *, compressed: bool = False) -> str:
    raw = json.dumps(data).encode()
    if compressed:
        return "." + _b64(zlib.compress(raw)) + ".ts.sig"
    return _b64(raw) + ".ts.sig"


def test_bucket_is_stable_and_in_range() -> None:
    assert bucket_of("user:42") == bucket_of("user:42")
    assert all(0 <= bucket_of(f"addr:10.0.0.{i}") < BUCKETS for i in range(200))


def test_raising_percent_only_moves_users_from_legacy_to_target() -> None:
    identities = [f"user:{i}" for i in range(3000)]
    previous = {i: Side.LEGACY for i in identities}
    for percent in (1, 5, 10, 25, 50, 75, 99, 100):
        now = {i: side_for(bucket_of(i), percent) for i in identities}
        moved_back = [i for i in identities if previous[i] is Side.TARGET and now[i] is Side.LEGACY]
        assert moved_back == []
        share = sum(side is Side.TARGET for side in now.values()) / len(identities)
        assert abs(share - percent / 100) < 0.05
        previous = now


def test_same_session_user_sticks_across_reissued_cookies() -> None:
    first = _flask_cookie({"user_id": 7, "session_token": "a"})
    second = _flask_cookie({"user_id": 7, "session_token": "b"}, compressed=True)
    one = identity_of([(b"cookie", f"theme=dark; mvidarr_session={first}".encode())], "1.2.3.4")
    two = identity_of([(b"cookie", f"mvidarr_session={second}".encode())], "5.6.7.8")
    assert one == two == "user:7"


def test_unreadable_session_cookie_keys_on_its_value() -> None:
    assert identity_of([(b"cookie", b"mvidarr_session=garbage!!")], "1.1.1.1") == "session:garbage!!"
    assert flask_session_user("not-base64-json") is None


def test_jwt_subject_identity_without_verification() -> None:
    token = _jwt({"sub": "alice", "exp": 1})
    assert jwt_subject(token) == "alice"
    assert identity_of([(b"authorization", f"Bearer {token}".encode())], "9.9.9.9") == "user:alice"
    assert jwt_subject("a.b") is None
    assert jwt_subject("a.!!!.c") is None
    assert jwt_subject(f"x.{_b64(b'[1]')}.y") is None


def test_api_key_then_client_address_are_fallback_identities() -> None:
    assert identity_of([(b"x-api-key", b"k-123")], "9.9.9.9") == "apikey:k-123"
    assert identity_of([(b"authorization", b"Basic abc")], "9.9.9.9") == "addr:9.9.9.9"
    assert identity_of([], None) == "addr:unknown"


def test_sticky_side_edges_and_consistency() -> None:
    headers = [(b"x-api-key", b"same")]
    assert sticky_side(headers, None, 0) is Side.LEGACY
    assert sticky_side(headers, None, 100) is Side.TARGET
    sides = {sticky_side(headers, f"10.0.0.{i}", 50) for i in range(20)}
    assert len(sides) == 1


def test_override_needs_admin_token_or_trusted_address() -> None:
    policy = OverridePolicy.build("s3cret", ["10.1.0.0/16"])
    ask = [(b"x-figway-target", b"target")]
    assert policy.forced_side(ask, "8.8.8.8") is None
    assert policy.forced_side([*ask, (b"x-figway-token", b"wrong")], "8.8.8.8") is None
    assert policy.forced_side([*ask, (b"x-figway-token", b"s3cret")], "8.8.8.8") is Side.TARGET
    assert policy.forced_side([(b"x-figway-target", b"LEGACY")], "10.1.2.3") is Side.LEGACY
    assert policy.forced_side([(b"x-figway-target", b"elsewhere")], "10.1.2.3") is None
    assert policy.forced_side(ask, "not-an-ip") is None
    assert OverridePolicy.build(None).forced_side([*ask, (b"x-figway-token", b"")], "10.1.2.3") is None


def test_a_user_keeps_one_side_whether_logged_in_by_session_cookie_or_jwt() -> None:
    # the services' JWT carries the user id as `sub`, the legacy session cookie as `user_id`
    cookie = _flask_cookie({"user_id": 42})
    by_cookie = identity_of([(b"cookie", f"mvidarr_session={cookie}".encode())], "1.1.1.1")
    by_jwt = identity_of([(b"authorization", f"Bearer {_jwt({'sub': '42'})}".encode())], "2.2.2.2")
    assert by_cookie == by_jwt == "user:42"
