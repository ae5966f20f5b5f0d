"""Flips that wait for proof, through real processes: a gateway subprocess in front of two real
upstreams (uvicorn threads), driven by real traffic and asked through its admin API."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.gates.support import (
    AUTH,
    MIN_COMPARED,
    explain,
    gateway,
    history,
    routing,
    upstream_of,
    upstreams,
    wait_until,
)


def _send(base: str, path: str, count: int = 1) -> None:
    for _ in range(count):
        assert httpx.get(base + path, timeout=10).status_code == 200


def _held(base: str, path: str) -> bool:
    return explain(base, path)["hold"] is not None


def test_a_canary_dated_in_the_past_is_held_in_shadow_until_clean_comparisons_flip_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    table = tmp_path / "routing.yaml"
    with upstreams() as (legacy, services):
        table.write_text(routing(legacy.url, services.url))
        with gateway(table, state) as gw:
            before = explain(gw.url, "/clean")
            assert before["mode"] == "shadow"
            assert before["upstream"] == "legacy"
            hold = before["hold"]
            assert hold["calendar"] == "canary 100%" and hold["serving"] == "shadow"
            assert f"{MIN_COMPARED} more shadow comparisons" in hold["missing"]
            assert "waits for evidence" in hold["why"]
            assert upstream_of(gw.url, "/clean") == "legacy"

            # real traffic: every GET is answered by legacy and mirrored to the services, then compared
            _send(gw.url, "/clean", MIN_COMPARED)
            _send(gw.url, "/differing", MIN_COMPARED + 3)
            wait_until(lambda: not _held(gw.url, "/clean"), poke=lambda: _send(gw.url, "/clean"))
            assert upstream_of(gw.url, "/clean") == "services"
            assert explain(gw.url, "/clean")["mode"] == "canary"

            # the differing stream keeps its route held, and says why
            gates = httpx.get(gw.url + "/_gateway/api/gates", headers=AUTH, timeout=10).json()
            differing = next(r for r in gates["routes"] if r["id"] == "differing")
            assert differing["gates"][0]["met"] is False
            assert "diff rate 100.00% above 0.00%" in differing["gates"][0]["missing"]
            assert differing["hold"]["serving"] == "shadow"
            assert upstream_of(gw.url, "/differing") == "legacy"
            assert any(c["kind"] == "flipped" and c["route"] == "clean" for c in history(gw.url))
            metrics = httpx.get(gw.url + "/_gateway/metrics", headers=AUTH, timeout=10).text
            assert 'figway_route_held{flip="canary 100%",route="differing",serving="shadow"} 1.0' in metrics
            assert 'route="clean",serving' not in metrics
            board = httpx.get(gw.url + "/_gateway/api/cutover/board", headers=AUTH, timeout=10).text
            assert 'data-held="differing"' in board and 'data-held="clean"' not in board

        # the evidence survives a restart (the state directory)
        with gateway(table, state) as gw:
            assert explain(gw.url, "/clean")["hold"] is None
            assert upstream_of(gw.url, "/clean") == "services"
            assert _held(gw.url, "/differing")
            # a change of what the route matches makes the old evidence meaningless: held again
            table.write_text(routing(legacy.url, services.url, clean_path="/clean2"))
            reload = httpx.post(gw.url + "/_gateway/api/reload", headers=AUTH, timeout=10)
            assert reload.status_code == 200
            again = explain(gw.url, "/clean2")
            assert again["hold"] is not None and again["upstream"] == "legacy"
            resets = [c for c in history(gw.url) if c["kind"] == "evidence"]
            assert [c["route"] for c in resets] == ["clean"]
            assert "starts again" in resets[0]["detail"]


def test_a_release_from_the_admin_api_flips_a_held_route_at_once_and_is_recorded(tmp_path: Path) -> None:
    table = tmp_path / "routing.yaml"
    with upstreams() as (legacy, services):
        table.write_text(routing(legacy.url, services.url))
        with gateway(table, tmp_path / "state") as gw:
            url = gw.url + "/_gateway/api/routes/differing/hold/release"
            body = {"by": "alice", "reason": "diffs are the known date format, ticket 42"}
            assert httpx.post(url, json=body, timeout=10).status_code == 401
            assert httpx.post(url, json={"reason": "x"}, headers=AUTH, timeout=10).status_code == 422
            assert upstream_of(gw.url, "/differing") == "legacy"
            answer = httpx.post(url, json=body, headers=AUTH, timeout=10)
            assert answer.status_code == 200
            assert answer.json()["released"][0]["by"] == "alice"
            # at once: the very next request
            assert upstream_of(gw.url, "/differing") == "services"
            assert explain(gw.url, "/differing")["hold"] is None
            released = [c for c in history(gw.url) if c["kind"] == "released"]
            assert released and "alice" in released[0]["detail"] and "ticket 42" in released[0]["detail"]
            gates = httpx.get(gw.url + "/_gateway/api/gates", headers=AUTH, timeout=10).json()
            opened = next(r for r in gates["routes"] if r["id"] == "differing")["gates"][0]["opened"]
            assert opened["by"] == "alice" and opened["reason"] == body["reason"]
            assert httpx.post(url, json=body, headers=AUTH, timeout=10).status_code == 409
            missing = gw.url + "/_gateway/api/routes/nope/hold/release"
            assert httpx.post(missing, json=body, headers=AUTH, timeout=10).status_code == 404


@pytest.mark.slow
def test_two_replicas_sharing_redis_agree_at_every_moment(
    tmp_path: Path, gates_redis_url: str, state_prefix: str
) -> None:
    table = tmp_path / "routing.yaml"
    shared = {
        "GATEWAY_REDIS_URL": gates_redis_url,
        "GATEWAY_STATE_PREFIX": state_prefix,
        "GATEWAY_EVIDENCE_SETTLE": "2",
    }
    with upstreams() as (legacy, services):
        table.write_text(routing(legacy.url, services.url))
        with (
            gateway(table, tmp_path / "one", **shared) as one,
            gateway(table, tmp_path / "two", **shared) as two,
        ):
            samples: list[tuple[Any, Any]] = []
            stop = threading.Event()

            def sample() -> None:
                while not stop.is_set():
                    at = datetime.now(UTC).isoformat()
                    seen = []
                    for gw in (one, two):
                        found = explain(gw.url, "/clean", at)
                        seen.append((found["mode"], found["upstream"], found["hold"] is not None))
                    samples.append((seen[0], seen[1]))

            sampler = threading.Thread(target=sample)
            sampler.start()
            try:
                _send(one.url, "/clean", MIN_COMPARED // 2)
                _send(two.url, "/clean", MIN_COMPARED // 2)

                def both_flipped() -> bool:
                    return not _held(one.url, "/clean") and not _held(two.url, "/clean")

                def poke() -> None:
                    _send(one.url, "/clean")
                    _send(two.url, "/clean")

                wait_until(both_flipped, poke=poke)
            finally:
                stop.set()
                sampler.join(timeout=30)
            assert samples
            disagreements = [pair for pair in samples if pair[0] != pair[1]]
            assert disagreements == []
            states = {pair[0] for pair in samples}
            assert ("shadow", "legacy", True) in states
            assert upstream_of(one.url, "/clean") == upstream_of(two.url, "/clean") == "services"
            # both replicas counted: the evidence is one total, not one per process
            gates = httpx.get(one.url + "/_gateway/api/gates", headers=AUTH, timeout=10).json()
            clean = next(r for r in gates["routes"] if r["id"] == "clean")
            assert clean["gates"][0]["opened"]["by"] == "evidence"
