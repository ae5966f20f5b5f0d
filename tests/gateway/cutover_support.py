"""Two test upstreams (a legacy side and a target side) that count reads and write rows, and a
gateway with the cutover machinery in front of them, all on real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.app import Gateway
from gateway.loader import parse_table
from gateway.settings import GatewaySettings
from tests.support.servers import RunningServer, uvicorn_thread

TOKEN = "admin-secret"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


class Clock:
    """A clock tests move by hand."""

    def __init__(self, when: datetime) -> None:
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now

    def travel(self, when: datetime) -> None:
        self.now = when.timestamp()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class Side:
    name: str
    engine: sa.Engine
    status: int = 200
    write_status: int = 201
    sleep: float = 0.0
    write_sleep: float = 0.0
    title: str = "Take On Me"
    noisy: bool = False
    health_status: int = 200
    reads: int = 0
    shadow_reads: int = 0
    in_progress: int = 0
    gate: threading.Event | None = None
    entered: threading.Event = field(default_factory=threading.Event)
    counter: Any = field(default_factory=itertools.count)
    last_headers: dict[str, str] = field(default_factory=dict)

    def rows(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT COUNT(*) FROM writes WHERE side = :s"), {"s": self.name}
                ).scalar_one()
            )

    def app(self) -> Starlette:
        async def items(request: Request) -> Response:
            if request.method == "POST":
                await request.body()
                await asyncio.to_thread(self._insert)
                if self.write_sleep:
                    await asyncio.sleep(self.write_sleep)
                return JSONResponse({"created": True, "side": self.name}, status_code=self.write_status)
            self.reads += 1
            self.last_headers = dict(request.headers)
            if request.headers.get("x-figway-shadow") == "1":
                self.shadow_reads += 1
            if self.gate is not None:
                self.in_progress += 1
                self.entered.set()
                for _ in range(3000):
                    if self.gate.is_set():
                        break
                    await asyncio.sleep(0.01)
                self.in_progress -= 1
            if self.sleep:
                await asyncio.sleep(self.sleep)
            body: dict[str, Any] = {"items": [{"id": 1, "title": self.title}], "count": 1}
            if self.noisy:
                body["generated"] = next(self.counter)
            return JSONResponse(body, status_code=self.status, headers={"x-side": self.name})

        async def health(request: Request) -> Response:
            return JSONResponse({"ok": self.health_status == 200}, status_code=self.health_status)

        return Starlette(
            routes=[Route("/api/items", items, methods=["GET", "POST"]), Route("/healthz", health)]
        )

    def _insert(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO writes (side) VALUES (:s)"), {"s": self.name})


def make_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS writes (id INTEGER PRIMARY KEY AUTOINCREMENT, side VARCHAR(20))"
            )
        )
    return engine


def table(legacy: str, target: str, routes: str, *, target_extra: str = "") -> str:
    return (
        "version: 1\n"
        "timezone: UTC\n"
        "upstreams:\n"
        f'  legacy: {{url: "{legacy}", timeout: {{connect: 1, read: 5}}}}\n'
        f'  services: {{url: "{target}", timeout: {{connect: 1, read: 0.5}}{target_extra}}}\n'
        "default: legacy\n"
        # these tables exercise the calendar itself: flips wait for no evidence (tests/gateway/gates do)
        "evidence: none\n"
        "routes:\n" + routes
    )


@contextlib.contextmanager
def sides(
    url: str, *, target_running: bool = True
) -> Iterator[tuple[Side, Side, RunningServer, RunningServer | None]]:
    engine = make_engine(url)
    legacy, target = Side("legacy", engine), Side("services", engine)
    with uvicorn_thread(legacy.app()) as legacy_srv:
        if target_running:
            with uvicorn_thread(target.app()) as target_srv:
                yield legacy, target, legacy_srv, target_srv
        else:
            yield legacy, target, legacy_srv, None
    engine.dispose()


@contextlib.contextmanager
def gateway_server(
    tmp_path: Path, text: str, clock: Clock, **settings: Any
) -> Iterator[tuple[RunningServer, Gateway]]:
    routing = tmp_path / "routing.yaml"
    routing.write_text(text)
    settings.setdefault("watch", False)
    settings.setdefault("admin_token", TOKEN)
    settings.setdefault("state_dir", tmp_path / "state")
    settings.setdefault("access_log", False)
    settings.setdefault("legacy_app", "")  # no url_map child process unless a test asks for coverage
    config = GatewaySettings(routing_file=routing, **settings)
    gateway = Gateway(config, clock=clock, table=parse_table(text, source=str(routing), clock=clock))
    with uvicorn_thread(gateway, server_header=False, date_header=False, proxy_headers=False) as server:
        yield server, gateway
