"""DirectRoute calls an endpoint as FastAPI would for its shape, and refuses any other shape."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services._direct_route import DirectRoute, direct
from services._legacy_json import LegacyJSONResponse
from services.app import create_app
from services.db import SessionDep, create_sessionmaker
from services.errors import install_error_handlers, legacy_error
from services.settings import Settings
from tests.support.databases import async_url
from tests.support.servers import uvicorn_thread

QueryText = Annotated[str | None, Query()]
SEEN: list[tuple[str, int]] = []


async def rule(request: Request, session: SessionDep) -> None:
    SEEN.append(("rule", id(session)))
    if request.query_params.get("refuse"):
        raise legacy_error(403, "refused by the rule")


async def echo(
    request: Request, session: SessionDep, item_id: int, q: QueryText = "dflt", empty: QueryText = None
) -> LegacyJSONResponse:
    SEEN.append(("endpoint", id(session)))
    one = await session.scalar(text("SELECT 1"))
    return LegacyJSONResponse(
        {"item_id": item_id, "q": q, "empty": empty, "one": one, "method": request.method}
    )


async def write(session: SessionDep) -> LegacyJSONResponse:
    await session.execute(text("INSERT INTO marks (name) VALUES ('kept')"))
    return LegacyJSONResponse({"ok": True})


async def write_then_fail(session: SessionDep) -> LegacyJSONResponse:
    await session.execute(text("INSERT INTO marks (name) VALUES ('rolled back')"))
    raise legacy_error(400, "after the write")


async def marks(session: SessionDep) -> LegacyJSONResponse:
    names = (await session.scalars(text("SELECT name FROM marks ORDER BY id"))).all()
    return LegacyJSONResponse({"marks": list(names)})


def _app(tmp_path: Any) -> FastAPI:
    """The same endpoints twice: under /fastapi as FastAPI routes, under /direct as DirectRoutes."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'direct.db'}")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS marks (id INTEGER PRIMARY KEY, name TEXT)"))
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    install_error_handlers(app)
    app.state.sessionmaker = create_sessionmaker(engine)
    routes = (("/{item_id:int}", "GET", echo), ("/write", "PUT", write), ("/fail", "PUT", write_then_fail),
              ("/marks", "GET", marks))  # fmt: skip
    fast = APIRouter(prefix="/fastapi", dependencies=[Depends(rule)])
    quick = APIRouter(prefix="/direct", dependencies=[Depends(rule)])
    for path, method, endpoint in routes:
        fast.add_api_route(path, endpoint, methods=[method])
        direct(quick, method, path)(endpoint)
    app.include_router(fast)
    app.include_router(quick)
    return app


@pytest.fixture
def client(tmp_path: Any) -> Iterator[httpx.Client]:
    with uvicorn_thread(_app(tmp_path)) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


@pytest.mark.parametrize(
    "query",
    ["", "?q=x", "?q=", "?q=a&q=b", "?empty=%20", "?refuse=1", "?q=%E2%82%AC&other=1"],
)
def test_a_direct_route_answers_what_fastapi_answers(client: httpx.Client, query: str) -> None:
    fastapi_answer = client.get(f"/fastapi/7{query}")
    direct_answer = client.get(f"/direct/7{query}")
    assert (direct_answer.status_code, direct_answer.content) == (
        fastapi_answer.status_code,
        fastapi_answer.content,
    )
    assert direct_answer.status_code == (403 if "refuse" in query else 200)


def test_the_rules_and_the_endpoint_share_one_session(client: httpx.Client) -> None:
    SEEN.clear()
    assert client.get("/direct/1").status_code == 200
    assert [kind for kind, _ in SEEN] == ["rule", "endpoint"]
    assert SEEN[0][1] == SEEN[1][1]


@pytest.mark.parametrize("side", ["fastapi", "direct"])
def test_a_write_commits_before_the_answer_and_an_error_rolls_it_back(
    client: httpx.Client, side: str
) -> None:
    assert client.put(f"/{side}/write").status_code == 200
    assert client.put(f"/{side}/fail").json() == {"error": "after the write"}
    assert client.get(f"/{side}/marks").json() == {"marks": ["kept"]}


def test_dependency_overrides_are_honoured(tmp_path: Any) -> None:
    app = _app(tmp_path)

    async def refuse_all(request: Request, session: SessionDep) -> None:
        raise legacy_error(401, "overridden")

    app.dependency_overrides[rule] = refuse_all
    with uvicorn_thread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        answer = http.get("/direct/3")
    assert (answer.status_code, answer.json()) == (401, {"error": "overridden"})


class Body(BaseModel):
    name: str


async def int_query(session: SessionDep, n: int = 1) -> LegacyJSONResponse:
    return LegacyJSONResponse({})


async def header_param(
    session: SessionDep, x_thing: Annotated[str | None, Header()] = None
) -> LegacyJSONResponse:
    return LegacyJSONResponse({})


async def body_model(body: Body, session: SessionDep) -> LegacyJSONResponse:
    return LegacyJSONResponse({})


async def returns_dict(session: SessionDep) -> dict[str, int]:
    return {}


def sync_endpoint(session: SessionDep) -> LegacyJSONResponse:
    return LegacyJSONResponse({})


async def reads_a_query(request: Request, flag: QueryText = None) -> None:
    return None


async def a_value(request: Request) -> int:
    return 1


async def other_dependency(session: SessionDep, n: Annotated[int, Depends(a_value)]) -> LegacyJSONResponse:
    return LegacyJSONResponse({})


async def a_rule_with_its_own_dependency(n: Annotated[int, Depends(a_value)]) -> None:
    return None


async def str_path(item_id: str, session: SessionDep) -> LegacyJSONResponse:
    return LegacyJSONResponse({})


@pytest.mark.parametrize(
    ("path", "endpoint", "dependencies", "why"),
    [
        ("/", int_query, [], "not a plain `str | None`"),
        ("/", header_param, [], "headers, cookies or a body"),
        ("/", body_model, [], "headers, cookies or a body"),
        ("/", returns_dict, [], "return a Response"),
        ("/", sync_endpoint, [], "not an async function"),
        ("/", other_dependency, [], "takes the value of dependency"),
        ("/", marks, [Depends(a_rule_with_its_own_dependency)], "not the session"),
        ("/", marks, [Depends(reads_a_query)], "reads request parameters"),
        ("/{item_id:int}", str_path, [], "not typed like its convertor"),
    ],
)
def test_a_shape_the_direct_route_cannot_call_is_refused_at_build(
    path: str, endpoint: Any, dependencies: list[Any], why: str
) -> None:
    with pytest.raises(TypeError, match=why):
        direct(APIRouter(), "GET", path, dependencies=dependencies)(endpoint)


def test_the_hot_database_routes_are_direct(tmp_path: Any) -> None:
    app = create_app(Settings(database_url=async_url(f"sqlite:///{tmp_path / 'x.db'}")))
    routes = {
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, DirectRoute)
        for method in context.methods or ()
    }
    assert routes == {
        ("GET", "/api/videos/"),
        ("GET", "/api/videos/search"),
        ("GET", "/api/videos/{video_id:int}"),
        ("PUT", "/api/videos/{video_id:int}/status"),
        ("GET", "/api/artists/"),
        ("PUT", "/api/settings/{key}"),
    }
