"""Schemathesis against the gateway admin API's ``/_gateway/openapi.json``. Every generated
request (valid and invalid inputs, with an admin credential so handlers run past auth) must get
no 5xx, and every answer with a documented status must match its documented schema. (The
services are fuzzed deeper, every check and phase: tests/reliability/test_services_fuzz.py.)

Bounded: ``FIGWAY_FUZZ_EXAMPLES`` examples per operation (default 8 here; ``make reliability``
runs 50).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from gateway.app import Gateway
from gateway.settings import GatewaySettings
from tests.support.servers import RunningServer, uvicorn_thread

EXAMPLES = int(os.environ.get("FIGWAY_FUZZ_EXAMPLES", "8"))
ADMIN_TOKEN = "fuzz-admin-token"
CHECKS = [not_a_server_error, response_schema_conformance]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same examples every run: a CI failure reproduces locally
)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    tmp = tmp_path_factory.mktemp("fuzz-gateway")
    routing = tmp / "routing.yaml"
    routing.write_text(
        "version: 1\nupstreams:\n  legacy: {url: 'http://127.0.0.1:9'}\n"
        "  services: {url: 'http://127.0.0.1:9', health: /healthz}\ndefault: legacy\nroutes:\n"
        "  - id: videos\n    path: /api/videos/\n    methods: [GET]\n    target: services\n"
        "    fallback: legacy\n    rollout: [{from: 2026-W49, mode: shadow}, {from: 2026-W50, mode: live}]\n"
    )
    config = GatewaySettings(
        routing_file=routing,
        watch=False,
        admin_token=ADMIN_TOKEN,
        state_dir=Path(tmp / "state"),
        access_log=False,
    )
    with uvicorn_thread(Gateway(config)) as server:
        yield server


def operations(document: dict[str, Any], exclude: str | None = None) -> dict[str, Any]:
    schema = schemathesis.openapi.from_dict(document)
    if exclude is not None:
        schema = schema.exclude(path_regex=exclude)
    return {result.ok().label: result.ok() for result in schema.get_all_operations()}


# The document is taken from the app at collection time (one test id per operation); the
# requests go to a real server over sockets. (schemathesis' own pytest plugin does not load under
# pytest 9 yet, so the hypothesis strategy is driven directly.)
def _gateway_document() -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        routing = Path(tmp) / "routing.yaml"
        routing.write_text("version: 1\nupstreams: {legacy: {url: 'http://127.0.0.1:9'}}\ndefault: legacy\n")
        gateway = Gateway(GatewaySettings(routing_file=routing, watch=False, state_dir=None))
        return dict(gateway.admin.openapi())


GATEWAY_OPS = operations(_gateway_document())


def fuzz(operation: Any, base_url: str, headers: dict[str, str]) -> None:
    @FUZZ
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize("label", list(GATEWAY_OPS))
def test_gateway_admin_api_answers_no_5xx_and_keeps_its_documented_schemas(
    label: str, gateway: RunningServer
) -> None:
    fuzz(GATEWAY_OPS[label], gateway.url, {"Authorization": f"Bearer {ADMIN_TOKEN}"})
