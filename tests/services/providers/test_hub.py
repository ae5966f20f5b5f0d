"""The provider hub's shared HTTP client."""

from __future__ import annotations

import respx

from services.providers.hub import create_http_client
from tests.services.providers.conftest import API, provider_settings


async def test_provider_set_cookie_is_never_sent_back_on_later_calls() -> None:
    client = create_http_client(provider_settings())
    with respx.mock(assert_all_called=True) as mock:
        first = mock.get(f"{API}/a").respond(200, headers={"Set-Cookie": "track=me; Path=/"}, json={})
        second = mock.get(f"{API}/b").respond(200, json={})
        async with client:
            await client.get(f"{API}/a")
            await client.get(f"{API}/b")
    assert first.calls.last.response.headers["set-cookie"] == "track=me; Path=/"
    assert "cookie" not in second.calls.last.request.headers
    assert len(client.cookies) == 0
