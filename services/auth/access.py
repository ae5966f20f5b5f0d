"""Access rules: every services route states one, and a test walks the app to prove it.

A rule is a dependency registered with `access_rule(description)`. Put one on each router
(`APIRouter(dependencies=[...])`) or route:

    PUBLIC                      anyone (health checks, login)
    AUTHENTICATED               any logged-in caller
    require_role(UserRole.X)    legacy's hierarchy ADMIN > MANAGER > USER > READONLY
    CAN_MODIFY / CAN_DELETE     legacy's `can_modify_content` / `can_delete_content`
    MODIFY_CONTENT / DELETE_CONTENT
                                writes on migrated content routes: an authenticated caller needs
                                can_modify / can_delete (legacy's UI hides what its role may not
                                do; legacy's API forgot to check). An anonymous caller is left to
                                the login guard, as on legacy: refused while require_authentication
                                is on, legacy's open single-user mode while it is off.

Refusals use legacy's bodies on migrated routes (`/api/...` and the legacy `/auth` endpoints):
401 `{"error":"Authentication required","code":"AUTH_REQUIRED"}`, 403 `{"error":"Insufficient
permissions","code":"INSUFFICIENT_PERMISSIONS"}`; new endpoints get the structured error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from services.auth.current_user import (
    AUTH_REQUIRED_BODY,
    Principal,
    get_current_user,
    get_principal,
)
from services.auth.service import role_permissions
from services.db import SessionDep
from services.errors import Forbidden, LegacyError, Unauthorized, is_legacy_route
from services.models import ROLE_LEVEL, UserRole

F = TypeVar("F", bound=Callable[..., Any])

INSUFFICIENT_BODY = {"error": "Insufficient permissions", "code": "INSUFFICIENT_PERMISSIONS"}

_RULES: dict[Callable[..., Any], str] = {}


def access_rule(description: str) -> Callable[[F], F]:
    """Mark a dependency callable as an access rule (what the route-walk test looks for)."""

    def mark(call: F) -> F:
        _RULES[call] = description
        return call

    return mark


def unauthenticated(request: Request) -> Exception:
    if is_legacy_route(request.url.path):
        return LegacyError(401, AUTH_REQUIRED_BODY)
    return Unauthorized("Authentication required", code="auth_required")


def forbidden(request: Request) -> Exception:
    if is_legacy_route(request.url.path):
        return LegacyError(403, INSUFFICIENT_BODY)
    return Forbidden("Insufficient permissions", code="insufficient_permissions")


@access_rule("public")
async def public() -> None:
    return None


@access_rule("authenticated")
async def authenticated(request: Request, session: SessionDep) -> Principal:
    principal = await get_principal(request, session)
    if principal is None:
        raise unauthenticated(request)
    return principal


# CurrentUserDep (legacy's @login_required) is a rule too.
access_rule("authenticated")(get_current_user)


def require_role(role: UserRole) -> Any:
    """`Depends(...)` admitting callers whose effective role is at least `role`."""

    @access_rule(f"role>={role.value}")
    async def check(request: Request, session: SessionDep) -> Principal:
        principal = await authenticated(request, session)
        if ROLE_LEVEL[principal.role] < ROLE_LEVEL[role]:
            raise forbidden(request)
        return principal

    return Depends(check)


def _require_permission(name: str) -> Any:
    @access_rule(name)
    async def check(request: Request, session: SessionDep) -> Principal:
        principal = await authenticated(request, session)
        if not role_permissions(principal.role)[name]:
            raise forbidden(request)
        return principal

    return Depends(check)


def _content_rule(name: str) -> Any:
    @access_rule(f"{name} (anonymous: login guard)")
    async def check(request: Request, session: SessionDep) -> Principal | None:
        principal = await get_principal(request, session)
        if principal is not None and not role_permissions(principal.role)[name]:
            raise forbidden(request)
        return principal

    return Depends(check)


PUBLIC = Depends(public)
AUTHENTICATED = Depends(authenticated)
CAN_MODIFY = _require_permission("can_modify")
CAN_DELETE = _require_permission("can_delete")
MODIFY_CONTENT = _content_rule("can_modify")
DELETE_CONTENT = _content_rule("can_delete")
ADMIN = require_role(UserRole.ADMIN)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def route_rules(app: FastAPI) -> dict[str, list[str]]:
    """`"GET /path"` -> the access rules found on that route (empty: the route states none)."""
    rules: dict[str, list[str]] = {}
    # iter_route_contexts flattens included routers and applies their prefixes and dependencies.
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        dependant: Dependant | None = context.dependant
        calls = [context.endpoint, *(_calls(dependant) if dependant is not None else ())]
        found = sorted({_RULES[call] for call in calls if call in _RULES})
        for method in sorted(context.methods or ()):
            rules[f"{method} {context.path}"] = found
    return rules
