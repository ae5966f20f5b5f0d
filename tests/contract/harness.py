"""Legacy vs services, same request, compared: the contract harness.

Each side runs as a real server (legacy: werkzeug in a thread; services: uvicorn in a thread)
over its own copy of one seeded database ("twins": seeded identically, so a write sent to
both leaves both in the same state and every later answer must match). `Pair.check()` sends
one request to both and compares status, content type and body (JSON parsed, text exact
after replacing each server's own origin).

`check()` then compares the body BYTES (after the normalisation below: `tests/contract/differential.py`)
and every header a client reads, allowing only what differences.yaml allows.

Allowed differences (each with its reason), applied by `_normalize`:
- `query_time` (artists list): a timing measurement, different on every request.
- datetimes written during the test (created_at, updated_at, added_at, ... later than the
  seed's fixed timestamps): each side wrote its row at its own "now"; both must still be
  ISO datetimes (or both null).
- the origin (`http://127.0.0.1:<port>`) inside redirect bodies and `Location`: each server
  has its own port.
- 500 bodies: legacy leaks `str(exception)`; services answer `{"error": "Internal server
  error"}`. Only statuses are compared when legacy answers 500 (see `allow_legacy_500`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

from legacy_flask.app import create_app as create_legacy_app
from legacy_flask.models import UserSession
from legacy_flask.seed import seed
from services.app import create_app as create_services_app
from services.migrate import upgrade
from services.settings import Settings
from tests.contract.differential import _normalise_body, diff_rows, dump_rows, visible_headers
from tests.contract.registry import Exchange, Reply, load
from tests.support.databases import async_url
from tests.support.servers import uvicorn_thread, wsgi_thread

SEED_SCALE = 0.1  # 20 artists, 500 videos, 5 playlists: every shape, seconds to seed
WRITTEN_AFTER = datetime(2026, 1, 1)  # the seed's timestamps are all in 2025
SESSION_EXPIRES = datetime(2099, 1, 1)
VOLATILE_KEYS = frozenset({"query_time"})
USERS = {"admin": 1, "manager": 2, "user": 3, "readonly": 4}
REGISTRY = load()


def prepare_database(sync_url: str) -> None:
    """Seed the legacy demo data (small scale), add one login session per user, run migrations."""
    engine = create_engine(sync_url)
    try:
        seed(engine, scale=SEED_SCALE)
        with Session(engine) as session:
            session.execute(
                insert(UserSession),
                [
                    {
                        "user_id": user_id,
                        "session_token": f"token-{name}",
                        "status": "ACTIVE",
                        "created_at": datetime(2025, 1, 1),
                        "last_activity": datetime(2025, 1, 1),
                        "expires_at": SESSION_EXPIRES,
                    }
                    for name, user_id in USERS.items()
                ],
            )
            session.commit()
    finally:
        engine.dispose()
    upgrade(Settings(database_url=sync_url))


def _is_written_timestamp(value: Any) -> bool:
    if not isinstance(value, str) or len(value) < 19 or value[4] != "-" or value[10] != "T":
        return False
    try:
        return datetime.fromisoformat(value) >= WRITTEN_AFTER
    except ValueError:
        return False


def _normalize(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("<volatile>" if k in VOLATILE_KEYS else _normalize(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if _is_written_timestamp(value):
        return "<written-now>"
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@dataclass
class Answer:
    status: int
    content_type: str
    body: Any
    headers: httpx.Headers
    raw: bytes = b""
    visible_headers: list[tuple[str, str]] = field(default_factory=list)

    def json(self) -> Any:
        return self.body


def _answer(response: httpx.Response, origin: str) -> Answer:
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("application/json") and response.content:
        body: Any = response.json()
    else:
        body = response.text.replace(origin, "ORIGIN")
    return Answer(
        response.status_code,
        content_type,
        body,
        response.headers,
        _normalise_body(response.content, origin, response.request.url.path),
        visible_headers(response, origin),
    )


@dataclass
class Pair:
    legacy: httpx.Client
    services: httpx.Client
    session_cookies: dict[str, str] = field(default_factory=dict)
    databases: tuple[str, str] | None = None  # (legacy's, services') sync URLs

    def same_rows(self) -> None:
        """The rows both sides left behind in legacy's tables are the same (twin databases)."""
        assert self.databases is not None
        dumps = []
        for url in self.databases:
            engine = create_engine(url)
            try:
                dumps.append(dump_rows(engine))
            finally:
                engine.dispose()
        differing = diff_rows(dumps[0], dumps[1])
        assert not differing, f"rows differ after the same requests: {differing}"

    def send(self, side: str, method: str, path: str, *, as_user: str | None = None, **kw: Any) -> Answer:
        client = self.legacy if side == "legacy" else self.services
        cookies = {"mvidarr_session": self.session_cookies[as_user]} if as_user else None
        client.cookies.clear()
        response = client.request(method, path, cookies=cookies, **kw)
        return _answer(response, str(client.base_url).rstrip("/"))

    def check(
        self,
        method: str,
        path: str,
        *,
        as_user: str | None = None,
        expect: int | None = None,
        allow_legacy_500: bool = False,
        unordered: str | None = None,
        **kw: Any,
    ) -> Answer:
        """Send to both; assert the same status, content type and (normalized) body."""
        old = self.send("legacy", method, path, as_user=as_user, **kw)
        new = self.send("services", method, path, as_user=as_user, **kw)
        where = f"{method} {path} {kw.get('json', kw.get('content', ''))!r}"
        if allow_legacy_500 and old.status == 500:
            assert new.status in (400, 500), f"{where}: legacy 500, services {new.status} {new.body}"
            return new
        assert (old.status, old.content_type) == (new.status, new.content_type), (
            f"{where}: legacy {old.status} {old.content_type} {old.body!r:.300} "
            f"!= services {new.status} {new.content_type} {new.body!r:.300}"
        )
        if "location" in old.headers:
            assert old.headers["location"].replace(str(self.legacy.base_url).rstrip("/"), "") == new.headers[
                "location"
            ].replace(str(self.services.base_url).rstrip("/"), ""), where
        old_body, new_body = _normalize(old.body), _normalize(new.body)
        if unordered:
            old_body[unordered] = sorted(old_body[unordered], key=_canonical)
            new_body[unordered] = sorted(new_body[unordered], key=_canonical)
        assert old_body == new_body, f"{where}:\nlegacy   {old_body!r}\nservices {new_body!r}"
        if not unordered:  # bytes: key order, escaping, float format, trailing newline
            assert old.raw == new.raw, (
                f"{where}: bytes differ\nlegacy   {old.raw!r:.600}\nservices {new.raw!r:.600}"
            )
        exchange = Exchange(method, path)
        allowed = REGISTRY.allowed(exchange, Reply(old.status, list(old.headers.multi_items()), old.raw))
        old_h = [h for h in old.visible_headers if f"headers.{h[0]}" not in allowed]
        new_h = [h for h in new.visible_headers if f"headers.{h[0]}" not in allowed]
        assert old_h == new_h, f"{where}: headers differ\nlegacy   {old_h}\nservices {new_h}"
        if expect is not None:
            assert new.status == expect, f"{where}: both answered {new.status}, expected {expect}"
        return new


def session_cookie(legacy_app: Any, user: str) -> str:
    """The `mvidarr_session` cookie legacy's /auth/login would set for this seeded user."""
    serializer = legacy_app.session_interface.get_signing_serializer(legacy_app)
    # Permanent, as legacy's /auth/login makes it: both sides then re-send it on every answer.
    data = {
        "_permanent": True,
        "user_id": USERS[user],
        "username": user,
        "role": "x",
        "session_token": f"token-{user}",
    }
    value = serializer.dumps(data)
    return value if isinstance(value, str) else value.decode()


@contextlib.contextmanager
def serve_pair(legacy_url: str, services_url: str, **services_settings: Any) -> Iterator[Pair]:
    """Legacy over `legacy_url` and services over `services_url` (sync URLs), as real servers."""
    legacy_app = create_legacy_app({"DATABASE_URL": legacy_url, "TESTING": True})
    settings = Settings(database_url=async_url(services_url), **services_settings)
    with (
        wsgi_thread(legacy_app) as legacy,
        uvicorn_thread(create_services_app(settings)) as services,
        httpx.Client(base_url=legacy.url, timeout=30) as legacy_client,
        httpx.Client(base_url=services.url, timeout=30) as services_client,
    ):
        cookies = {user: session_cookie(legacy_app, user) for user in USERS}
        yield Pair(legacy_client, services_client, cookies, (legacy_url, services_url))
    legacy_app.extensions["figway_engine"].dispose()
