"""The direct aiohttp sender on real sockets: what the provider receives is what httpx sent
(query encoding, default headers, form bodies), answers, gzip, cookies, error mapping."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.providers._direct import DirectSender, full_url
from tests.support.servers import RunningServer, free_port, uvicorn_thread


async def echo(request: Request) -> Response:
    return JSONResponse(
        {
            "method": request.method,
            "path": request.scope["raw_path"].decode(),
            "query": request.scope["query_string"].decode(),
            "body": (await request.body()).decode(),
            "headers": {k: v for k, v in request.headers.items() if k not in ("host", "content-length")},
        },
        headers={"X-Seen": "yes", "Set-Cookie": "track=me; Path=/"},
    )


async def zipped(request: Request) -> Response:
    return Response(
        gzip.compress(b'{"zipped": true}'),
        headers={"Content-Encoding": "gzip"},
        media_type="application/json",
    )


async def slow(request: Request) -> Response:
    await asyncio.sleep(2)
    return Response("late")


@pytest.fixture(scope="module")
def upstream() -> Iterator[RunningServer]:
    app = Starlette(
        routes=[
            Route("/echo", echo, methods=["GET", "POST"]),
            Route("/echo/{rest:path}", echo),
            Route("/zip", zipped),
            Route("/slow", slow),
        ]
    )
    with uvicorn_thread(app) as running:
        yield running


def sender(read: float = 5.0) -> DirectSender:
    return DirectSender(
        max_connections=10, user_agent="figway-test", timeout=httpx.Timeout(read, connect=5.0)
    )


@pytest.fixture
async def direct() -> AsyncIterator[DirectSender]:
    sent = sender()
    try:
        yield sent
    finally:
        await sent.aclose()


PARAMS = {"q": 'artist:"AC/DC & Co" é+~*', "limit": 10, "flag": True, "none": None}


async def test_the_provider_receives_what_httpx_would_have_sent(
    upstream: RunningServer, direct: DirectSender
) -> None:
    url = f"{upstream.url}/echo"
    got = await direct.request("GET", url, params=PARAMS, headers={"Authorization": "Bearer k"})
    async with httpx.AsyncClient(headers={"User-Agent": "figway-test"}) as http:
        reference = await http.get(url, params=PARAMS, headers={"Authorization": "Bearer k"})
    assert got.status_code == 200 and got.headers["x-seen"] == "yes"
    assert got.json() == reference.json()
    assert got.json()["query"] == "q=artist%3A%22AC%2FDC+%26+Co%22+%C3%A9%2B~%2A&limit=10&flag=true&none="
    assert got.json()["headers"] == {
        "accept": "*/*",
        "accept-encoding": "gzip, deflate",
        "connection": "keep-alive",
        "user-agent": "figway-test",
        "authorization": "Bearer k",
    }


async def test_per_request_headers_replace_the_defaults(
    upstream: RunningServer, direct: DirectSender
) -> None:
    got = await direct.request(
        "GET", f"{upstream.url}/echo", headers={"user-agent": "MVidarr/1.0", "Accept": "application/json"}
    )
    headers = got.json()["headers"]
    assert headers["user-agent"] == "MVidarr/1.0" and headers["accept"] == "application/json"


async def test_form_posts_are_encoded_like_httpx(upstream: RunningServer, direct: DirectSender) -> None:
    got = await direct.request("POST", f"{upstream.url}/echo", data={"grant_type": "client_credentials"})
    assert got.json()["body"] == "grant_type=client_credentials"
    assert got.json()["headers"]["content-type"] == "application/x-www-form-urlencoded"


async def test_paths_outside_rfc3986_are_quoted(upstream: RunningServer, direct: DirectSender) -> None:
    got = await direct.request("GET", f"{upstream.url}/echo/a b/é")
    assert got.json()["path"] == "/echo/a%20b/%C3%A9"
    assert str(full_url("http://h/x/1", {"a": "b c"})) == "http://h/x/1?a=b+c"


async def test_cookies_are_never_sent_back(upstream: RunningServer, direct: DirectSender) -> None:
    await direct.request("GET", f"{upstream.url}/echo")
    again = await direct.request("GET", f"{upstream.url}/echo")
    assert "cookie" not in again.json()["headers"]


async def test_compressed_bodies_are_decoded(upstream: RunningServer, direct: DirectSender) -> None:
    response = await direct.request("GET", f"{upstream.url}/zip")
    assert response.json() == {"zipped": True}


async def test_refused_connection_is_an_httpx_connect_error(direct: DirectSender) -> None:
    with pytest.raises(httpx.ConnectError):
        await direct.request("GET", f"http://127.0.0.1:{free_port()}/")


async def test_slow_answer_is_an_httpx_read_timeout(upstream: RunningServer) -> None:
    slow_sender = sender(read=0.2)
    try:
        with pytest.raises(httpx.ReadTimeout):
            await slow_sender.request("GET", f"{upstream.url}/slow")
    finally:
        await slow_sender.aclose()


async def test_closing_the_sender_closes_the_pool(upstream: RunningServer) -> None:
    sent = sender()
    await sent.request("GET", f"{upstream.url}/echo")
    assert sent._session is not None
    await sent.aclose()
    assert sent._session is None
