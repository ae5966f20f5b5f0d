from __future__ import annotations

import base64
import ipaddress
import json

from gateway.ratelimit.keys import ClientAddress, client_key, user_of

PROXIES = (ipaddress.ip_network("10.0.0.0/8"),)


def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    headers = [(b"x-forwarded-for", b"1.2.3.4")]
    assert ClientAddress(PROXIES).of(headers, "203.0.113.9") == "203.0.113.9"
    assert ClientAddress().of(headers, "10.0.0.1") == "10.0.0.1"


def test_the_client_is_the_first_hop_from_the_right_that_no_trusted_proxy_vouches_for() -> None:
    # The client forged the leftmost entry; 10.1.1.1 is our own second proxy.
    headers = [(b"x-forwarded-for", b"6.6.6.6, 198.51.100.7"), (b"x-forwarded-for", b"10.1.1.1")]
    assert ClientAddress(PROXIES).of(headers, "10.0.0.2") == "198.51.100.7"


def test_only_trusted_hops_means_the_leftmost_one_is_the_client() -> None:
    assert ClientAddress(PROXIES).of([(b"x-forwarded-for", b"10.9.9.9, ")], "10.0.0.2") == "10.9.9.9"
    assert ClientAddress(PROXIES).of([], "10.0.0.2") == "10.0.0.2"
    assert ClientAddress(PROXIES).of([], None) == "unknown"


def _jwt(claims: dict[str, object]) -> bytes:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    return b"Bearer eyJhbGciOiJIUzI1NiJ9." + body + b".sig"


def test_each_key_kind_and_its_fallback_to_the_address() -> None:
    headers = [(b"authorization", _jwt({"sub": "42"})), (b"x-api-key", b"k1"), (b"x-tenant", b" acme ")]
    assert client_key("user", headers, "1.1.1.1") == "user:42"
    assert client_key("api_key", headers, "1.1.1.1") == "apikey:k1"
    assert client_key("header:x-tenant", headers, "1.1.1.1") == "header:x-tenant=acme"
    assert client_key("address", headers, "1.1.1.1") == "addr:1.1.1.1"
    for kind in ("user", "api_key", "header:x-other"):
        assert client_key(kind, [(b"authorization", b"Bearer nonsense")], "1.1.1.1") == "addr:1.1.1.1"


def test_the_session_user_is_read_from_the_legacy_cookie() -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"user_id": 7}).encode()).rstrip(b"=").decode()
    headers = [(b"cookie", f"a=b; mvidarr_session={payload}.x.y".encode())]
    assert user_of(headers) == "7"
    assert user_of([(b"cookie", b"mvidarr_session=garbage")]) is None
