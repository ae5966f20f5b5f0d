"""The last legacy answer per route, kept in the state directory across restarts, written in batches."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.legacy_traffic import FILE_NAME, LegacyLastSeen


class Source:
    def __init__(self) -> None:
        self.found: dict[str, float | None] = {}

    def __call__(self) -> dict[str, float | None]:
        return self.found


async def test_latest_times_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / FILE_NAME
    source = Source()
    first = LegacyLastSeen(path, source, clock=lambda: 1000.0, interval=3600)
    await first.start()
    source.found = {"videos": 1500.0, "default": None}
    assert first.last_at("videos") == 1500.0  # read live before any write
    await first.aclose()
    stored = json.loads(path.read_text())
    assert stored == {"since": 1000.0, "routes": {"videos": 1500.0}}

    again = LegacyLastSeen(path, Source(), clock=lambda: 9000.0, interval=3600)
    await again.start()
    assert again.since == 1000.0 and again.last_at("videos") == 1500.0 and again.last_at("nope") is None
    await again.aclose()


async def test_processes_sharing_the_file_keep_the_latest_of_them_all(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_text(json.dumps({"since": 500.0, "routes": {"videos": 2000.0, "artists": 10.0, "bad": "x"}}))
    source = Source()
    seen = LegacyLastSeen(path, source, clock=lambda: 3000.0, interval=3600)
    await seen.start()
    source.found = {"videos": 1800.0, "artists": 2500.0}
    await seen.sync()
    await seen.aclose()
    stored = json.loads(path.read_text())
    assert stored == {"since": 500.0, "routes": {"artists": 2500.0, "videos": 2000.0}}


async def test_an_unreadable_file_starts_counting_afresh_and_memory_only_needs_no_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / FILE_NAME
    path.write_text("not json")
    seen = LegacyLastSeen(path, Source(), clock=lambda: 42.0, interval=3600)
    await seen.start()
    await seen.aclose()
    assert json.loads(path.read_text())["since"] == 42.0
    memory = LegacyLastSeen(None, Source(), clock=lambda: 7.0, interval=3600)
    await memory.start()
    memory.merge({"r": 5.0})
    await memory.aclose()
    assert memory.since == 7.0 and memory.last_at("r") == 5.0


async def test_never_started_writes_nothing(tmp_path: Path) -> None:
    seen = LegacyLastSeen(tmp_path / FILE_NAME, Source())
    await seen.aclose()
    assert not (tmp_path / FILE_NAME).exists()
