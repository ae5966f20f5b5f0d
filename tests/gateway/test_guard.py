from __future__ import annotations

import json
from pathlib import Path

from gateway.guard import GuardLimits, SlidingWindow, Tripwire
from gateway.pins.store import JsonFilePinStore, MemoryPinStore, Pins


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_error_rate_breach_needs_min_requests() -> None:
    clock = FakeClock()
    guard = Tripwire("videos", GuardLimits(max_error_rate=0.1, min_requests=20, window=60), clock)
    for _ in range(10):
        assert guard.observe(5.0, True) is None  # all errors, but too few requests to judge
    breach = None
    for _ in range(10):
        breach = guard.observe(5.0, False) or breach
    assert breach is not None
    assert breach.route_id == "videos" and breach.requests == 20 and breach.error_rate == 0.5
    assert breach.reason.startswith("error rate 50.0% > 10.0% over 20 requests")


def test_window_forgets_old_requests() -> None:
    clock = FakeClock()
    window = SlidingWindow(60, clock)
    for _ in range(30):
        window.add(1.0, True)
    clock.now += 30
    window.add(1.0, False)
    assert window.count == 31 and window.errors == 30
    clock.now += 31
    window.add(1.0, False)
    assert window.count == 2 and window.errors == 0
    clock.now += 120
    window.refresh()
    assert window.count == 0 and window.error_rate == 0.0 and window.quantile_ms(0.99) == 0.0


def test_p99_breach_and_histogram_estimate() -> None:
    clock = FakeClock()
    guard = Tripwire("slow", GuardLimits(max_p99_ms=200, min_requests=16, window=10), clock)
    for _ in range(15):
        assert guard.observe(10.0, False) is None
    assert guard.observe(10.0, False) is None
    assert 10.0 <= guard.window.quantile_ms(0.99) < 12.0
    breach = None
    for _ in range(16):
        breach = guard.observe(900.0, False) or breach
    assert breach is not None and breach.reason.startswith("p99 ")
    assert 900 <= breach.p99_ms < 900 * 1.2
    guard.reset()
    assert guard.window.count == 0


async def test_pins_persist_across_restarts_and_release(tmp_path: Path) -> None:
    path = tmp_path / "state" / "pins.json"
    pins = Pins(JsonFilePinStore(path))
    await pins.load()
    assert pins.get("videos") is None
    first = await pins.pin("videos", "error rate 50%", fingerprint="abc")
    again = await pins.pin("videos", "another reason", fingerprint="abc")
    assert again is first
    assert json.loads(path.read_text())["pins"][0]["reason"] == "error rate 50%"
    assert list(path.parent.iterdir()) == [path]  # no temp files left behind

    restarted = Pins(JsonFilePinStore(path))
    await restarted.load()
    pin = restarted.get("videos")
    assert pin is not None and pin.reason == "error rate 50%" and pin.by == "guard"
    assert await restarted.release("videos")
    assert not await restarted.release("videos")
    assert json.loads(path.read_text()) == {"pins": []}


async def test_a_changed_or_removed_route_releases_its_pin() -> None:
    store = MemoryPinStore()
    pins = Pins(store)
    await pins.pin("a", "r", fingerprint="1")
    await pins.pin("b", "r", fingerprint="1")
    await pins.pin("c", "r", fingerprint="1")
    await pins.pin("d", "r", by="operator")
    released = await pins.reconcile({"a": "1", "b": "2", "d": "9"})
    assert sorted(released) == ["b", "c"]
    assert sorted(pins.all()) == ["a", "d"]
    assert sorted(store.pins) == ["a", "d"]


async def test_unreadable_pin_file_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "pins.json"
    path.write_text("{broken")
    pins = Pins(JsonFilePinStore(path))
    await pins.load()
    assert pins.all() == {}
