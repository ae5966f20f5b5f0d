from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.admin.readmodel import endpoint_coverage, route_states, tally
from gateway.canary import Side
from gateway.cutover import Cutover
from gateway.decide import Decision
from gateway.diff import Sample
from gateway.forwarding import HeaderRewriter
from gateway.history import snapshot_table
from gateway.loader import parse_table
from gateway.mirroring import Mirroring
from gateway.pins.store import MemoryPinStore

TABLE = """
version: 1
timezone: UTC
upstreams:
  legacy: {url: "http://127.0.0.1:5000"}
  services: {url: "http://127.0.0.1:8001"}
default: legacy
evidence: none  # the calendar itself (flips waiting for evidence: tests/gateway/gates)
routes:
  - id: videos
    path: /api/videos/
    methods: [GET]
    target: services
    fallback: legacy
    rollout:
      - {from: 2026-W49, mode: shadow}
      - {from: 2026-W50, mode: canary, percent: 30}
      - {from: 2026-W51, mode: live}
    guard: {max_error_rate: 0.1, min_requests: 10, window: 60s}
    shadow: {ignore: [body.query_time], learn_noise: true}
  - id: health
    path: /api/health
    to: services
"""


class Clock:
    def __init__(self, when: datetime) -> None:
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now


def _scope(
    method: str = "GET", client: str = "10.0.0.1", headers: list[tuple[bytes, bytes]] | None = None
) -> Any:
    return {
        "type": "http",
        "method": method,
        "headers": headers or [],
        "client": (client, 1234),
        "query_string": b"q=1",
    }


def _decide(cutover: Cutover, table: Any, scope: Any) -> Decision:
    route = table.routes[0]
    decision = cutover.decider.decide(route, table.phase(route), scope)
    assert isinstance(decision, Decision)
    return decision


async def test_each_phase_by_clock_travel() -> None:
    clock = Clock(datetime(2026, 11, 20, tzinfo=UTC))
    table = parse_table(TABLE, clock=clock)
    cutover = Cutover(clock=clock)
    await cutover.start(table)
    try:
        before = _decide(cutover, table, _scope())
        assert (before.mode, before.upstream, before.shadow) == ("legacy", "legacy", False)
        clock.now = datetime(2026, 11, 30, 0, 0, tzinfo=UTC).timestamp()  # Monday of W49
        shadow = _decide(cutover, table, _scope())
        assert (shadow.mode, shadow.upstream, shadow.alternate, shadow.shadow) == (
            "shadow",
            "legacy",
            "services",
            True,
        )
        clock.now = datetime(2026, 12, 7, tzinfo=UTC).timestamp()
        sides = {
            _decide(cutover, table, _scope(client=f"10.0.{i // 250}.{i % 250}")).side for i in range(400)
        }
        assert sides == {Side.LEGACY, Side.TARGET}
        clock.now = datetime(2026, 12, 14, tzinfo=UTC).timestamp()
        live = _decide(cutover, table, _scope())
        assert (live.mode, live.upstream, live.alternate) == ("live", "services", "legacy")
        plain = cutover.decider.decide(table.routes[1], table.phase(table.routes[1]), _scope())
        assert plain.upstream == "services"
    finally:
        await cutover.aclose()


async def test_canary_is_sticky_per_user() -> None:
    clock = Clock(datetime(2026, 12, 8, tzinfo=UTC))
    table = parse_table(TABLE, clock=clock)
    cutover = Cutover(clock=clock)
    await cutover.start(table)
    try:
        for i in range(50):
            key = [(b"x-api-key", f"key-{i}".encode())]
            first = _decide(cutover, table, _scope(client="1.1.1.1", headers=key)).side
            assert all(
                _decide(cutover, table, _scope(client=f"2.2.2.{n}", headers=key)).side == first
                for n in range(5)
            )
    finally:
        await cutover.aclose()


async def test_override_breaker_and_pin_send_requests_to_legacy() -> None:
    clock = Clock(datetime(2026, 12, 15, tzinfo=UTC))
    table = parse_table(TABLE, clock=clock)
    cutover = Cutover(clock=clock, admin_token="tok", pin_store=MemoryPinStore())
    await cutover.start(table)
    try:
        forced = _decide(
            cutover, table, _scope(headers=[(b"x-figway-target", b"legacy"), (b"x-figway-token", b"tok")])
        )
        assert (forced.upstream, forced.why) == ("legacy", "override")
        for _ in range(5):
            cutover.breakers.get("services").record_failure()
        open_ = _decide(cutover, table, _scope())
        assert (open_.upstream, open_.why) == ("legacy", "breaker open")
        cutover.breakers.get("services").record_success()
        assert await cutover.pin("videos", "operator says so")
        assert not await cutover.pin("nope", "x")
        with pytest.raises(ValueError, match="plain `to` route"):
            await cutover.pin("health", "x")
        pinned = _decide(cutover, table, _scope())
        assert (pinned.upstream, pinned.pinned) == ("legacy", True)
        pinned_row = route_states(cutover, table, clock.now)[0].pinned
        assert pinned_row is not None and pinned_row["reason"] == "operator says so"
        assert await cutover.release("videos")
        assert _decide(cutover, table, _scope()).upstream == "services"
    finally:
        await cutover.aclose()


async def test_guard_breach_pins_route_and_reload_of_changed_route_releases() -> None:
    clock = Clock(datetime(2026, 12, 15, tzinfo=UTC))
    table = parse_table(TABLE, clock=clock)
    store = MemoryPinStore()
    cutover = Cutover(clock=clock, pin_store=store, breaker_threshold=1000)
    await cutover.start(table)
    try:
        for _ in range(10):
            decision = _decide(cutover, table, _scope())
            cutover.outcomes.observe(decision, 503, 0.01)
        await cutover.settle()
        assert "videos" in store.pins and store.pins["videos"].reason.startswith("error rate 100.0%")
        assert _decide(cutover, table, _scope()).upstream == "legacy"
        changed = parse_table(TABLE.replace("min_requests: 10", "min_requests: 20"), clock=clock)
        cutover.on_swap(table, changed, source="file")
        await cutover.settle()
        assert "videos" not in store.pins
        entry = cutover.history.entries()[0]
        assert entry.source == "file" and [c.kind for c in entry.changes] == ["edited"]
        cutover.on_reload_failed("api", "bad yaml")
        assert cutover.history.entries()[0].ok is False
        rows = [row.as_json() for row in route_states(cutover, changed, clock.now)]
        assert (
            rows[0]["sides"]["target"]["requests"] == 10 and rows[0]["sides"]["target"]["error_rate"] == 1.0
        )
        board = tally(route_states(cutover, changed, clock.now)).as_json()
        assert board["count"]["live"] == 1 and board["requests_on_target"] == 10
        renamed = TABLE.split("  - id: health")[0].replace("id: videos", "id: videos2")
        without = parse_table(renamed, clock=clock)
        cutover.on_swap(changed, without)
        assert cutover.outcomes.stats == {}
    finally:
        await cutover.aclose()


async def test_shadow_job_carries_query_request_id_and_noise_url() -> None:
    clock = Clock(datetime(2026, 12, 1, tzinfo=UTC))
    table = parse_table(TABLE, clock=clock)
    cutover = Cutover(clock=clock)
    await cutover.start(table)
    try:
        decision = _decide(cutover, table, _scope(headers=[(b"accept", b"application/json")]))
        rewriter = HeaderRewriter(trusted_proxies=(), request_id_name=b"x-request-id")
        job = Mirroring(cutover.mirror, rewriter).job(
            table, decision, _scope(headers=[(b"accept", b"*/*")]), b"/api/videos/", "rid", Sample(200)
        )
        assert job is not None
        assert job.target_url == "http://127.0.0.1:8001/api/videos/?q=1"
        assert job.legacy_url == "http://127.0.0.1:5000/api/videos/?q=1"
        assert ("x-request-id", "rid") in job.headers and ("accept", "*/*") in job.headers
        # built by the forwarding header code: the real peer, and marked as a mirror
        assert ("x-forwarded-for", "10.0.0.1") in job.headers and ("x-figway-shadow", "1") in job.headers
        assert job.config.ignore.covers(("body", "query_time"))
        snap = snapshot_table(table, clock.now)
        assert snap["videos"].mode == "shadow" and snap["health"].upstream == "services"
    finally:
        await cutover.aclose()


async def test_endpoint_coverage_is_read_once_in_the_background() -> None:
    clock = Clock(datetime(2027, 1, 20, tzinfo=UTC))
    table = parse_table(TABLE, clock=clock)
    assert endpoint_coverage(Cutover(clock=clock), table) == {"state": "disabled"}
    broken = Cutover(clock=clock, legacy_app="no_such_module:create_app")
    assert endpoint_coverage(broken, table) == {"state": "loading"}
    assert broken.coverage._task is not None
    await broken.coverage._task
    failed = endpoint_coverage(broken, table)
    assert failed["state"] == "error" and "no_such_module" in failed["error"]
    cutover = Cutover(clock=clock, legacy_app="legacy_flask.app:create_app")
    await cutover.start(table)
    try:
        endpoint_coverage(cutover, table)
        assert cutover.coverage._task is not None
        await cutover.coverage._task
        ready = endpoint_coverage(cutover, table)
    finally:
        await cutover.aclose()
    assert ready["state"] == "ready"
    rows = {(e["method"], e["rule"]): e["state"] for e in ready["endpoints"]}
    assert rows[("GET", "/api/videos/")] == "live" and rows[("POST", "/api/videos/")] == "not migrated"
