"""What Flask's session interface does to every legacy answer, for every services answer.

Flask (3.1, `SecureCookieSessionInterface.save_session`) runs after each request, errors
included:

- `Vary: Cookie` when the handler read the session at all (even with no cookie). Services
  read the legacy session in one place, `services.auth.current_user.legacy_session`, which
  leaves the decoded session in the scope: its presence is "accessed".
- A permanent session (legacy's login sets `_permanent`) is re-sent on every answer with a
  fresh signature and `Expires` = now + the session lifetime (`SESSION_REFRESH_EACH_REQUEST`),
  plus `Vary: Cookie`: a client with a rolling 24-hour login keeps it whichever side answers.

A handler that sets or clears the session cookie itself (login, logout) is left alone.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.auth.flask_session import dump_session, load_session, session_set_cookie
from services.settings import Settings

SESSION_SCOPE_KEY = "figway_session"  # set by services.auth.current_user.legacy_session


def _request_session(scope: Scope, settings: Settings) -> dict[str, Any]:
    for name, value in scope["headers"]:
        if name == b"cookie":
            cookie = cookie_parser(value.decode("latin-1")).get(settings.session_cookie_name, "")
            return load_session(
                cookie,
                secret_key=settings.secret_key.get_secret_value(),
                max_age=settings.session_lifetime_seconds,
            )
    return {}


def _add_vary_cookie(headers: MutableHeaders) -> None:
    vary = headers.get("vary")
    if vary is None:
        headers["Vary"] = "Cookie"
    elif "cookie" not in {part.strip().lower() for part in vary.split(",")}:
        headers["Vary"] = f"{vary}, Cookie"


class LegacySessionRefresh:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings: Settings = scope["app"].state.settings

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                cookie_prefix = settings.session_cookie_name + "="
                handled = any(v.startswith(cookie_prefix) for v in headers.getlist("set-cookie"))
                if SESSION_SCOPE_KEY in scope or handled:
                    _add_vary_cookie(headers)
                if not handled:
                    data = scope.get(SESSION_SCOPE_KEY)
                    if data is None:
                        data = _request_session(scope, settings)
                    if data and data.get("_permanent"):
                        _refresh(headers, data, settings)
            await send(message)

        await self.app(scope, receive, send_with_session)


def _refresh(headers: MutableHeaders, data: dict[str, Any], settings: Settings) -> None:
    value = dump_session(data, secret_key=settings.secret_key.get_secret_value())
    headers.append(
        "set-cookie",
        session_set_cookie(
            value,
            name=settings.session_cookie_name,
            lifetime_seconds=settings.session_lifetime_seconds,
            secure=settings.session_cookie_secure,
        ),
    )
    _add_vary_cookie(headers)
