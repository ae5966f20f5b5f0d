"""The gatekeeper in one process, on each store: counts in batches, gates opened once (the first
opening stands), holds that end at the opening's instant, releases, resets, and plan's notes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.compiler import CompiledTable
from gateway.gates.keeper import Gatekeeper, build_evidence_store
from gateway.gates.offline import flip_notes
from gateway.gates.redis_store import RedisEvidenceStore
from gateway.gates.store import FileEvidenceStore, MemoryEvidenceStore, Opened
from gateway.loader import parse_table

HEAD = """version: 1
upstreams:
  legacy: {url: "http://127.0.0.1:5000"}
  services: {url: "http://127.0.0.1:8001"}
default: legacy
routes:
"""
T0 = 1_800_000_000.0  # 2027-01-15


def _table(path: str = "/a", now: list[float] | None = None) -> CompiledTable:
    clock = now or [T0]
    return parse_table(
        HEAD
        + f"""  - id: a
    path: {path}
    methods: [GET]
    target: services
    rollout:
      - {{from: "2027-01-01T00:00:00", mode: shadow}}
      - {{from: "2027-01-02T00:00:00", mode: canary, percent: 50, requires: {{shadow: {{min_compared: 3}}}}}}
      - {{from: "2027-01-03T00:00:00", mode: live, requires: {{canary: {{min_requests: 2}}}}}}
      - {{from: "2030-01-01T00:00:00", mode: legacy}}
""",
        clock=lambda: clock[0],
    )


@pytest.mark.parametrize("kind", ["memory", "file"])
async def test_stores_add_up_counts_and_keep_the_first_opening(kind: str, tmp_path: Path) -> None:
    store = MemoryEvidenceStore() if kind == "memory" else FileEvidenceStore(tmp_path / "evidence.json")
    key = ("a", "fp")
    await store.exchange({key: {"shadow.compared": 2}}, [])
    read = await store.exchange({key: {"shadow.compared": 3, "shadow.differing": 1}}, [key, ("b", "x")])
    assert read[key].counts == {"shadow.compared": 5, "shadow.differing": 1}
    assert ("b", "x") not in read
    first = Opened("live", 1.0, 3.0, "evidence", "enough")
    assert await store.open(key, first) == first
    assert await store.open(key, Opened("live", 2.0, 4.0, "evidence", "later")) == first
    released = Opened("live", 2.5, 2.5, "alice", "go")
    assert await store.open(key, released, replace=True) == released
    assert (await store.exchange({}, [key]))[key].opened["live"] == released
    await store.aclose()
    if kind == "file":
        saved = json.loads((tmp_path / "evidence.json").read_text())
        assert saved["routes"][0]["opened"]["live"]["by"] == "alice"


async def test_the_redis_store_is_one_total_for_every_replica(
    gates_redis_url: str, state_prefix: str
) -> None:
    one = RedisEvidenceStore(gates_redis_url, prefix=state_prefix)
    two = RedisEvidenceStore(gates_redis_url, prefix=state_prefix)
    key = ("a", "fp")
    await one.exchange({key: {"shadow.compared": 2}}, [])
    read = await two.exchange({key: {"shadow.compared": 1}}, [key])
    assert read[key].counts == {"shadow.compared": 3}
    first = await one.open(key, Opened("live", 1.0, 3.0, "evidence", "x"))
    assert await two.open(key, Opened("live", 2.0, 4.0, "evidence", "y")) == first
    assert (await one.exchange({}, [key]))[key].opened["live"] == first
    for store in (one, two):
        await store.aclose()


def test_the_store_follows_the_settings() -> None:
    assert isinstance(build_evidence_store(), MemoryEvidenceStore)
    assert isinstance(build_evidence_store(state_dir=Path("/tmp/x")), FileEvidenceStore)
    assert isinstance(build_evidence_store(redis_url="redis://127.0.0.1:6379/0"), RedisEvidenceStore)


async def test_evidence_opens_each_gate_in_order_at_a_settled_instant_and_a_release_is_at_once() -> None:
    now = [T0]
    table = _table(now=now)
    route = table.routes[0]
    notes: list[tuple[str, str, str]] = []
    keeper = Gatekeeper(clock=lambda: now[0], settle=2.0, note=lambda *n: notes.append(n))
    await keeper.start(table)
    try:
        hold = keeper.hold_now("a")
        assert hold is not None and hold.serving.mode == "shadow" and hold.gate.label == "canary 50%"
        assert [h.route_id for h in keeper.held_now()] == ["a"]
        for differing in (False, False, False):
            keeper.shadow("a", differing, False)
        keeper.shadow("a", False, True)  # a failed mirror is no comparison
        keeper.canary("elsewhere", "target", 1.0, False)  # not a gated route: ignored
        await keeper.sync()
        held = keeper.hold_now("a")
        assert held is not None and held.until == T0 + 2.0  # decided: opens at the settled instant
        assert keeper.holds.describe(held)["opens_at"] == T0 + 2.0
        now[0] = T0 + 2.0
        held = keeper.hold_now("a")  # now in canary, held for live (no canary evidence yet)
        assert held is not None and held.serving.mode == "canary" and held.gate.label == "live"
        assert notes and notes[0][0] == "flipped" and "3 shadow comparisons" in notes[0][2]
        keeper.canary("a", "target", 3.0, False)
        keeper.canary("a", "legacy", 3.0, True)
        await keeper.sync()
        assert "more legacy requests" in keeper.holds.describe(held)["missing"]
        released = await keeper.release("a", by="alice", reason="ship it")
        assert [o.label for o in released] == ["live"]
        assert keeper.hold_now("a") is None
        assert await keeper.release("a", by="alice", reason="again") == []
        assert notes[-1][0] == "released" and "alice" in notes[-1][2]
        plan = flip_notes(table, keeper.holds, now[0])
        assert plan[("a", route.gates[0].start)] == "gate open (on evidence)"
        assert plan[("a", route.gates[1].start)] == "gate open (released by alice)"
        # a route that matches something else starts its evidence again
        reset = keeper.adopt(_table("/b", now))
        assert reset == ["a"]
        assert keeper.hold_now("a") is not None
    finally:
        await keeper.aclose()


def test_plan_notes_say_which_coming_flips_are_on_track() -> None:
    now = [T0 - 40 * 86400]  # before the rollout
    table = _table(now=now)
    keeper = Gatekeeper(clock=lambda: now[0])
    keeper.adopt(table)
    notes = flip_notes(table, keeper.holds, now[0])
    gates = table.routes[0].gates
    assert notes[("a", gates[0].start)] == "would be held now: missing 3 more shadow comparisons"
    assert notes[("a", gates[1].start)] == "waits for the flip before it"
    now[0] = T0
    assert flip_notes(table, keeper.holds, now[0])[("a", gates[0].start)].startswith("HELD: missing 3 more")


async def test_the_decider_serves_a_held_route_in_its_earlier_phase_and_the_metric_says_so() -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from gateway.breaker import Breakers
    from gateway.decide import Decider
    from gateway.metrics import GateCollector
    from gateway.pins.store import Pins
    from gateway.rollout import phase_at

    now = [T0]
    table = _table(now=now)
    route = table.routes[0]
    keeper = Gatekeeper(clock=lambda: now[0])
    keeper.adopt(table)
    decider = Decider(pins=Pins(), breakers=Breakers(), holds=keeper.holds)
    calendar, _ = phase_at(route.schedule, now[0])
    assert calendar.mode == "live"
    trace: dict[str, object] = {}
    decision = decider.decide(route, calendar, {"method": "GET", "headers": ()}, trace, now=now[0])
    assert (decision.mode, decision.upstream, decision.shadow) == ("shadow", "legacy", True)
    assert decision.hold is not None and decision.hold.calendar is calendar
    hold = trace["hold"]
    assert isinstance(hold, dict) and hold["missing"] == "3 more shadow comparisons"
    served = decider.decide_request(table, "GET", ["a"], {"method": "GET", "headers": []})
    assert served.mode == "shadow" and served.hold is not None
    registry = CollectorRegistry()
    registry.register(GateCollector(keeper))
    text = generate_latest(registry).decode()
    assert 'figway_route_held{flip="canary 50%",route="a",serving="shadow"} 1.0' in text


class _SlowStore(MemoryEvidenceStore):
    """Answers an exchange only when the test lets it, so a table can be adopted meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.reading = asyncio.Event()
        self.answer = asyncio.Event()
        self.answer.set()

    async def exchange(self, deltas: Any, keys: Any) -> Any:
        read = await super().exchange(deltas, keys)
        self.reading.set()
        await self.answer.wait()
        return read


async def test_a_sync_that_read_the_old_table_never_lifts_the_hold_of_a_route_reset_meanwhile() -> None:
    """A reload changing what a route matches resets its evidence; a beat already reading the
    store for the old fingerprint (opened there) must not bring the old opening back."""
    now = [T0]
    store = _SlowStore()
    keeper = Gatekeeper(store, clock=lambda: now[0], settle=0.0, interval=3600)  # beats by hand
    await keeper.start(_table(now=now))
    try:
        assert (await keeper.release("a", by="alice", reason="opened under /a")) != []
        assert keeper.hold_now("a") is None
        store.reading.clear()
        store.answer.clear()
        beat = asyncio.create_task(keeper.sync())
        await store.reading.wait()  # the beat has read the old key's openings
        assert keeper.adopt(_table("/b", now)) == ["a"]
        assert keeper.hold_now("a") is not None
        store.answer.set()
        await beat
        assert keeper.hold_now("a") is not None  # still held: the evidence starts again
        await keeper.sync()  # the next beat reads the new key
        assert keeper.hold_now("a") is not None
    finally:
        store.answer.set()
        await keeper.aclose()
