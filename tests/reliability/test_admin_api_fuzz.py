"""Schemathesis against the gateway admin API, every check, with and without the admin token,
operation by operation and through the stateful phase (list routes, pin one, release it).

No generated request may get a 5xx, an undocumented status, header or content type, or a body that
breaks its documented schema; and whatever was sent, the read endpoints still answer afterwards.
Bounded: ``FIGWAY_ADMIN_FUZZ_EXAMPLES`` examples per operation and auth mode (default 25 here;
``make fuzz-admin`` runs 1,000) and as many stateful scenarios.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from gateway.app import Gateway
from gateway.settings import GatewaySettings
from tests.support.servers import RunningServer, uvicorn_thread

EXAMPLES = int(os.environ.get("FIGWAY_ADMIN_FUZZ_EXAMPLES", "25"))
TOKEN = "fuzz-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MODES = {"token": AUTH, "no-token": {}}
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same examples every run: a CI failure reproduces locally
)
ROUTING = """version: 1
upstreams:
  legacy: {url: 'http://127.0.0.1:9'}
  services: {url: 'http://127.0.0.1:9', health: /healthz}
default: legacy
routes:
  - id: videos
    path: /api/videos/
    methods: [GET]
    target: services
    fallback: legacy
    rollout: [{from: 2026-W49, mode: shadow}, {from: 2026-W50, mode: live}]
    rate_limit: {limit: 10, window: 1m}
  - id: settings
    path: /api/settings/{key}
    to: services
"""
#: Calls per operation and auth mode, for the run's report (pytest -s prints it).
CALLS: dict[str, int] = {}
#: Stateful calls that acted on a real route id (taken from a listing through the OpenAPI links).
PINNED_REAL_ROUTES: dict[str, int] = {}


def _gateway(tmp: Path) -> Gateway:
    routing = tmp / "routing.yaml"
    routing.write_text(ROUTING)
    config = GatewaySettings(
        routing_file=routing,
        watch=False,
        admin_token=TOKEN,
        state_dir=tmp / "state",
        access_log=False,
        redis_url=None,
    )
    return Gateway(config)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with uvicorn_thread(_gateway(tmp_path_factory.mktemp("admin-fuzz"))) as server:
        yield server
    print("admin fuzz calls:", sum(CALLS.values()), dict(sorted(CALLS.items())))


def _document() -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return dict(_gateway(Path(tmp)).admin.openapi())


SCHEMA = schemathesis.openapi.from_dict(_document())
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}


def _reads_still_answer(base_url: str) -> None:
    for path in ("/_gateway/api/routes", "/_gateway/api/cutover", "/_gateway/api/cutover/board"):
        assert httpx.get(base_url + path, headers=AUTH, timeout=30).status_code == 200, path


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("label", list(OPERATIONS))
def test_every_admin_operation_answers_only_what_it_documents(
    label: str, mode: str, gateway: RunningServer
) -> None:
    operation = OPERATIONS[label]

    @FUZZ
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        CALLS[f"{label} [{mode}]"] = CALLS.get(f"{label} [{mode}]", 0) + 1
        case.call_and_validate(base_url=gateway.url, headers=MODES[mode])  # every check

    run()
    _reads_still_answer(gateway.url)


@pytest.mark.parametrize("mode", list(MODES))
def test_stateful_sequences_answer_only_what_they_document(mode: str, gateway: RunningServer) -> None:
    machine = SCHEMA.as_state_machine()

    class Admin(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            key = f"stateful {case.operation.label} [{mode}]"
            CALLS[key] = CALLS.get(key, 0) + 1
            if (case.path_parameters or {}).get("route_id") in ("videos", "settings"):
                PINNED_REAL_ROUTES[mode] = PINNED_REAL_ROUTES.get(mode, 0) + 1
            return {"base_url": gateway.url, "headers": MODES[mode]}

    Admin.run(settings=settings(FUZZ, stateful_step_count=8))
    _reads_still_answer(gateway.url)
    if mode == "token":  # the links were followed: real routes were pinned and released
        assert PINNED_REAL_ROUTES.get(mode, 0) > 0
