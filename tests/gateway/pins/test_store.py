"""Pins: kept across restarts (JSON file), released by an operator or by a changed route."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.pins.store import JsonFilePinStore, MemoryPinStore, Pins


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
