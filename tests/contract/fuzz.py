"""The differential fuzzer's bench: twin seeded databases, both apps serving, a `Differ` over them.

    with fuzz_bench(legacy_db_url, services_db_url) as bench:
        bench.run(probe)            # compare one request, keep the seeded logins alive
        print(bench.differ.tally.summary())

`tests/contract/test_fuzz.py` drives it with hypothesis (bounded in `make test`, long in
`make contract-fuzz`, which also prints every difference minimised).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text

from legacy_flask.app import create_app as create_legacy_app
from services.app import create_app as create_services_app
from services.settings import Settings
from tests.contract.differential import WRITE_METHODS, Differ, Difference, Probe, Side, Tally, minimise
from tests.contract.fuzz_requests import Endpoint, legacy_rules, shared_endpoints
from tests.contract.harness import USERS, prepare_database, session_cookie
from tests.contract.registry import load
from tests.support.databases import async_url
from tests.support.servers import uvicorn_thread, wsgi_thread

EXAMPLES_ENV = "FIGWAY_CONTRACT_FUZZ_EXAMPLES"  # FIGWAY_FUZZ_EXAMPLES is the schemathesis fuzz's
DEMO_ROLES = {"admin": "ADMIN", "manager": "MANAGER", "user": "USER", "readonly": "READONLY"}
# Probes that change who may log in: after them the seeded logins are put back on both sides
# (identically), so later probes keep exercising every role.
_LOGIN_CHANGING = ("/auth/logout", "/auth/login", "/admin/api/users/")


def examples(default: int) -> int:
    return int(os.environ.get(EXAMPLES_ENV, default))


@dataclass
class FuzzBench:
    differ: Differ
    endpoints: list[Endpoint]
    cookies: dict[str, str]
    minimised: list[Difference]

    def run(self, probe: Probe) -> Difference | None:
        difference = self.differ.compare(probe)
        if any(probe.path.startswith(p) for p in _LOGIN_CHANGING):
            self.restore_logins()
        if difference is not None:
            self.minimised.append(self._minimise(difference))
        if probe.method in WRITE_METHODS:  # a write, then a read of what it wrote
            read = Probe("GET", probe.path, cookies=probe.cookies, role=probe.role)
            found = self.differ.compare(read)
            if found is not None:
                self.minimised.append(found)
        return difference

    def restore_logins(self) -> None:
        for side in (self.differ.legacy, self.differ.services):
            with side.engine.begin() as conn:
                conn.execute(
                    text("UPDATE user_sessions SET status = 'ACTIVE' WHERE session_token LIKE 'token-%'")
                )
                for index, (name, role) in enumerate(DEMO_ROLES.items(), start=1):
                    conn.execute(
                        text(
                            "UPDATE users SET role = :role, is_active = :on, failed_login_attempts = 0,"
                            " locked_until = NULL WHERE id = :id"
                        ),
                        {"role": role, "on": True, "id": index},
                    )

    def _minimise(self, difference: Difference) -> Difference:
        probe = difference.probe
        if probe.method not in ("GET", "HEAD"):  # a write cannot be replayed: report it as sent
            return difference
        counting = self.differ.tally
        self.differ.tally = Tally()  # replays are not counted

        def still(candidate: Probe) -> bool:  # the same parts still differ
            found = self.differ.compare(candidate)
            return found is not None and set(difference.parts) <= set(found.parts)

        try:
            smallest = minimise(probe, still)
            return self.differ.compare(smallest) or difference
        finally:
            self.differ.tally = counting


@contextlib.contextmanager
def fuzz_bench(legacy_url: str, services_url: str, **services_settings: Any) -> Iterator[FuzzBench]:
    """Seed both databases identically, serve legacy on one and services on the other."""
    prepare_database(legacy_url)
    prepare_database(services_url)
    legacy_app = create_legacy_app({"DATABASE_URL": legacy_url, "TESTING": True})
    services_app = create_services_app(Settings(database_url=async_url(services_url), **services_settings))
    with (
        wsgi_thread(legacy_app) as legacy,
        uvicorn_thread(services_app) as services,
        httpx.Client(base_url=legacy.url, timeout=30) as legacy_client,
        httpx.Client(base_url=services.url, timeout=30) as services_client,
    ):
        openapi = services_client.get("/openapi.json").json()
        endpoints = shared_endpoints(legacy_rules(legacy_app), openapi)
        cookies = {user: session_cookie(legacy_app, user) for user in USERS}
        old, new = Side(legacy_client, legacy_url), Side(services_client, services_url)
        try:
            yield FuzzBench(Differ(old, new, load()), endpoints, cookies, [])
        finally:
            old.close()
            new.close()
    legacy_app.extensions["figway_engine"].dispose()
