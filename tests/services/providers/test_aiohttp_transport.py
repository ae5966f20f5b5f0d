"""The aiohttp-backed httpx transport on real sockets: bodies, headers, gzip, error mapping."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.providers._aiohttp_transport import AiohttpTransport
from tests.support.servers import RunningServer, free_port, uvicorn_thread


async def echo(request: Request) -> Response:
    return JSONResponse(
        {
            "method": request.method,
            "query": dict(request.query_params),
            "body": (await request.body()).decode(),
            "user_agent": request.headers.get("user-agent"),
            "auth": request.headers.get("authorization"),
        },
        headers={"X-Seen": "yes"},
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
        routes=[Route("/echo", echo, methods=["GET", "POST"]), Route("/zip", zipped), Route("/slow", slow)]
    )
    with uvicorn_thread(app) as running:
        yield running


def client(**timeouts: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=AiohttpTransport(max_connections=10),
        headers={"User-Agent": "figway-test"},
        timeout=httpx.Timeout(timeouts.get("read", 5.0), connect=timeouts.get("connect", 5.0)),
    )


async def test_requests_and_answers_pass_through_unchanged(upstream: RunningServer) -> None:
    async with client() as http:
        got = await http.get(
            f"{upstream.url}/echo", params={"q": 'a "b";c'}, headers={"Authorization": "Bearer k"}
        )
        posted = await http.post(f"{upstream.url}/echo", data={"grant_type": "client_credentials"})
    assert got.status_code == 200 and got.headers["x-seen"] == "yes"
    assert got.json() == {
        "method": "GET",
        "query": {"q": 'a "b";c'},
        "body": "",
        "user_agent": "figway-test",
        "auth": "Bearer k",
    }
    assert posted.json()["body"] == "grant_type=client_credentials"


async def test_compressed_bodies_are_decoded_once(upstream: RunningServer) -> None:
    async with client() as http:
        response = await http.get(f"{upstream.url}/zip")
    assert response.json() == {"zipped": True}


async def test_refused_connection_is_an_httpx_connect_error() -> None:
    async with client() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{free_port()}/")


async def test_slow_answer_is_an_httpx_read_timeout(upstream: RunningServer) -> None:
    async with client(read=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"{upstream.url}/slow")


async def test_closing_the_client_closes_the_pool(upstream: RunningServer) -> None:
    transport = AiohttpTransport(max_connections=2)
    async with httpx.AsyncClient(transport=transport) as http:
        await http.get(f"{upstream.url}/echo")
        assert transport._session is not None
    assert transport._session is None
