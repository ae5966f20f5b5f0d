"""services._legacy_http: werkzeug's first values for repeated query parameters and cookies."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest

from services._legacy_http import RAW_QUERY_KEY, WerkzeugFirstValues, first_value_cookies, first_value_query
from tests.support.servers import uvicorn_thread


async def _echo(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "args": dict(request.query_params),
            "cookies": request.cookies,
            "raw": request.scope.get(RAW_QUERY_KEY, b"").decode(),
        }
    )


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    app = WerkzeugFirstValues(Starlette(routes=[Route("/", _echo)]))
    with uvicorn_thread(app, lifespan="off") as server, httpx.Client(base_url=server.url) as http:
        yield http


def _werkzeug(query: str = "", cookie: str | None = None) -> WerkzeugRequest:
    headers = {"Cookie": cookie} if cookie is not None else {}
    return WerkzeugRequest(EnvironBuilder(path="/", query_string=query, headers=headers).get_environ())


@pytest.mark.parametrize(
    "query",
    [
        "force=false&force=true",
        "a=1&b=2&a=3&b=",
        "q=%E2%9C%93&q=x",
        "q=%FF%FE",  # invalid UTF-8: werkzeug keeps the escapes
        "q=a+b&q=c",
        "empty&empty=1",
        "k=%",
    ],
)
def test_the_first_value_of_a_repeated_parameter_wins_as_in_werkzeug(
    client: httpx.Client, query: str
) -> None:
    seen = client.get(f"/?{query}").json()
    expected = {k: _werkzeug(query).args.get(k) for k in _werkzeug(query).args}
    assert seen["args"] == expected
    assert seen["raw"] in (query, "")  # kept verbatim (for redirects) whenever it was rewritten


def test_a_plain_query_is_left_alone() -> None:
    assert first_value_query(b"limit=5&offset=10") is None
    assert first_value_query(b"force=false&force=true") == b"force=false"


@pytest.mark.parametrize(
    "cookie",
    [
        "mvidarr_session=first; mvidarr_session=second",
        "a=1; mvidarr_session=x; a=2",
        'mvidarr_session="quoted value"; mvidarr_session=plain',
    ],
)
def test_the_first_of_two_cookies_wins_as_in_werkzeug(client: httpx.Client, cookie: str) -> None:
    seen = client.get("/", headers={"Cookie": cookie}).json()
    assert seen["cookies"] == dict(_werkzeug(cookie=cookie).cookies.items())


def test_a_plain_cookie_header_is_left_alone() -> None:
    assert first_value_cookies("a=1; b=2") is None
    assert first_value_cookies("a=1; a=2") == "a=1"


@pytest.mark.parametrize(
    "cookies",
    [
        ["mvidarr_session=signed", "x=" + "y" * 6000],  # a long second header: no session on legacy
        ["a=1", "mvidarr_session=signed"],
        ["mvidarr_session=first", "mvidarr_session=second"],
        ['a="q,uoted"', "b=2", "c=3"],
    ],
)
def test_repeated_cookie_headers_are_read_as_one_joined_with_commas(
    client: httpx.Client, cookies: list[str]
) -> None:
    # gunicorn and werkzeug's server both hand a WSGI app repeated headers as ONE value joined
    # with "," (werkzeug.serving: f"{environ[key]},{value}"); Starlette alone would read the first
    # header only, so `mvidarr_session=signed` followed by another Cookie header logged the caller
    # in on services and not on legacy.
    seen = client.get("/", headers=[("Cookie", value) for value in cookies]).json()
    assert seen["cookies"] == dict(_werkzeug(cookie=",".join(cookies)).cookies.items())
