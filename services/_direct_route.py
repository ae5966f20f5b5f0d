"""`DirectRoute`: a route FastAPI documents from its signature, called without FastAPI's solver.

Per request, FastAPI solves an endpoint's signature: it walks the dependency tree (with a
dependency cache, two exit stacks, a scratch `Response`), then validates every declared
parameter through pydantic. On the hot resource routes that machinery does nothing these
routes need: every query parameter is declared `str | None` (any string is valid), path
parameters arrive already converted by the route's `{name:int}` convertor, and the only
dependencies are the request's session and access rules taking `(request, session)`. Its own
part (the solver less the session and rules it ran) was about a seventh of the videos list's
event-loop CPU (in-process py-spy on MariaDB, bench/results/issue-17.md); the search alone
declares 22 query parameters for its OpenAPI document.

A DirectRoute keeps the declaration, so `/openapi.json` is unchanged, and calls the endpoint
as FastAPI would for exactly that shape:

- one session per request (`services.db.get_session`: the same engine choice, commit before
  the answer leaves, rollback when anything raises), shared by the rules and the endpoint;
- the rules (router dependencies first, then the route's) in declaration order;
- the endpoint with the request, the session, each query parameter's first value or its
  default (werkzeug's first value: `WerkzeugFirstValues`), and the converted path values.

A signature or dependency outside that shape is refused when the route is built (a
`TypeError` at import), and dependency overrides, when any are set, go through FastAPI's
own handler: a DirectRoute never answers differently from the route it replaces.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar, get_type_hints

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, _effective_route_context_var
from starlette.requests import Request
from starlette.responses import Response

from services.db import SINGLE_WRITE_KEY, get_session

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
Rule = Callable[..., Coroutine[Any, Any, Any]]
E = TypeVar("E", bound=Callable[..., Any])

_SINGLE_WRITES: set[Callable[..., Any]] = set()

_session_scope = asynccontextmanager(get_session)


def direct(
    router: APIRouter, method: str, path: str, *, single_write: bool = False, **options: Any
) -> Callable[[E], E]:
    """`@router.<method>(path, **options)` registering a DirectRoute: `@direct(router, "GET", "/")`.

    `single_write`: the endpoint writes with at most one statement that changes rows, last, so
    on MariaDB it runs on the autocommit engine (`services.db.SINGLE_WRITE_KEY`).
    """

    def register(endpoint: E) -> E:
        if single_write:
            _SINGLE_WRITES.add(endpoint)
        router.add_api_route(path, endpoint, methods=[method], route_class_override=DirectRoute, **options)
        return endpoint

    return register


class DirectRoute(APIRoute):
    """The route `direct()` registers (see the module docstring)."""

    def get_route_handler(self) -> Handler:
        # As `APIRoute.get_route_handler` does: an included route is built once per inclusion,
        # with its router's prefix and dependencies in the effective context (FastAPI >= 0.16x).
        context = _effective_route_context_var.get()
        route: Any = context if context is not None and context.original_route is self else self
        fastapi_handler = super().get_route_handler()
        return _direct_handler(route, fastapi_handler)


def _refuse(route: Any, why: str) -> TypeError:
    return TypeError(f"DirectRoute {sorted(route.methods)} {route.path}: {why}")


def _session_name(dependant: Dependant, route: Any) -> str | None:
    """The parameter that receives the request's session, after checking every dependency of
    `dependant` is the session itself."""
    name = None
    for sub in dependant.dependencies:
        if sub.call is get_session and sub.name is not None:
            name = sub.name
        elif sub.call is not get_session:
            raise _refuse(route, f"dependency {sub.call!r} of {dependant.call!r} is not the session")
    return name


def _rule(sub: Dependant, route: Any) -> tuple[Rule, str | None, str | None]:
    """A route-level dependency as (callable, request parameter, session parameter)."""
    if not inspect.iscoroutinefunction(sub.call):
        raise _refuse(route, f"dependency {sub.call!r} is not an async function")
    if sub.path_params or sub.query_params or sub.header_params or sub.cookie_params or sub.body_params:
        raise _refuse(route, f"dependency {sub.call!r} reads request parameters")
    if sub.response_param_name or sub.background_tasks_param_name or sub.security_scopes_param_name:
        raise _refuse(route, f"dependency {sub.call!r} takes a special parameter")
    return sub.call, sub.request_param_name, _session_name(sub, route)


def _query_defaults(dependant: Dependant, route: Any) -> tuple[tuple[str, Any], ...]:
    pairs = []
    for field in dependant.query_params:
        info = field.field_info
        if info.annotation != (str | None) or field.alias != field.name or info.validation_alias:
            raise _refuse(route, f"query parameter {field.name!r} is not a plain `str | None`")
        if not (info.default is None or isinstance(info.default, str)):
            raise _refuse(route, f"query parameter {field.name!r} has a non-string default")
        pairs.append((field.name, info.default))
    return tuple(pairs)


def _path_names(dependant: Dependant, route: Any) -> tuple[str, ...]:
    for field in dependant.path_params:
        # The convertor's value must already be what pydantic would make of it (int -> int).
        convertor = route.param_convertors.get(field.name)
        kind = field.field_info.annotation
        if convertor is None or kind not in (int, str) or type(convertor.convert("0")) is not kind:
            raise _refuse(route, f"path parameter {field.name!r} is not typed like its convertor")
    return tuple(field.name for field in dependant.path_params)


def _direct_handler(route: Any, fastapi_handler: Handler) -> Handler:
    dependant: Dependant = route.dependant
    endpoint = dependant.call
    if not inspect.iscoroutinefunction(endpoint):
        raise _refuse(route, "the endpoint is not an async function")
    answer = get_type_hints(endpoint).get("return")
    if not (isinstance(answer, type) and issubclass(answer, Response)):
        # FastAPI serialises anything else through the response model; a Response goes out as is.
        raise _refuse(route, "the endpoint is not annotated to return a Response")
    if dependant.header_params or dependant.cookie_params or dependant.body_params:
        raise _refuse(route, "the endpoint reads headers, cookies or a body model")
    if dependant.response_param_name or dependant.background_tasks_param_name:
        raise _refuse(route, "the endpoint takes a special parameter")
    for sub in dependant.dependencies:
        if sub.name is not None and sub.call is not get_session:
            raise _refuse(route, f"the endpoint takes the value of dependency {sub.call!r}")
    rules = [_rule(sub, route) for sub in dependant.dependencies if sub.call is not get_session]
    session_param = _session_name(
        Dependant(call=endpoint, dependencies=[d for d in dependant.dependencies if d.call is get_session]),
        route,
    )
    request_param = dependant.request_param_name
    queries = _query_defaults(dependant, route)
    paths = _path_names(dependant, route)
    overrides = route.dependency_overrides_provider
    single_write = endpoint in _SINGLE_WRITES

    async def handle(request: Request) -> Response:
        if single_write:
            request.scope[SINGLE_WRITE_KEY] = True
        if overrides is not None and getattr(overrides, "dependency_overrides", None):
            return await fastapi_handler(request)
        async with _session_scope(request) as session:
            for call, rule_request, rule_session in rules:
                args: dict[str, Any] = {}
                if rule_request:
                    args[rule_request] = request
                if rule_session:
                    args[rule_session] = session
                await call(**args)
            kwargs: dict[str, Any] = {}
            if request_param:
                kwargs[request_param] = request
            if session_param:
                kwargs[session_param] = session
            if queries:
                params = request.query_params
                for name, default in queries:
                    kwargs[name] = params.get(name, default)
            if paths:
                values = request.path_params
                for name in paths:
                    kwargs[name] = values[name]
            response: Response = await endpoint(**kwargs)
        return response

    return handle
