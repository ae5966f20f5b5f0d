"""Legacy and services writing the same rows of one database at the same time, as they do while
a cutover is in progress (some clients on migrated routes, others still on legacy).

- Different columns of one row, written concurrently from both sides: neither side loses the
  other's update (legacy alone loses none: its ORM writes only the columns it changed).
- The same (existing) setting written from both sides: one row, a written value, no 5xx.
- A new setting key created from both sides at once: the unique key holds (one row); the side
  that loses the insert race answers 500, as legacy itself does when it loses (IntegrityError).
- Videos added to one playlist from both sides: every added video is there once, and the
  positions are what legacy's own concurrent adds leave (read-max-then-insert in both apps, so
  a race may give two entries one position; then a reorder from either side makes them 0..n-1).

Real servers (werkzeug legacy, uvicorn services) over one database, SQLite and MariaDB.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.contract.harness import Pair, prepare_database, serve_pair

ROUNDS = 12


@pytest.fixture
def pair(database_url: str) -> Iterator[tuple[Pair, str]]:
    prepare_database(database_url)
    with serve_pair(database_url, database_url) as served:
        yield served, database_url


def rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def client(pair: Pair, side: str, user: str | None = "admin") -> httpx.Client:
    base = pair.legacy.base_url if side == "legacy" else pair.services.base_url
    cookies = {"mvidarr_session": pair.session_cookies[user]} if user else None
    return httpx.Client(base_url=base, timeout=30, cookies=cookies)


def at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Run the calls in threads released together by a barrier; return their answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], httpx.Response]) -> None:
        barrier.wait(timeout=30)
        answers[index] = call()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_concurrent_updates_of_different_columns_from_both_sides_lose_nothing(pair: tuple[Pair, str]) -> None:
    served, url = pair
    with client(served, "legacy") as legacy, client(served, "services") as services:
        for n in range(ROUNDS):
            title, year = f"Concurrent title {n}", 1980 + n
            answers = at_once(
                lambda: legacy.put("/api/videos/7", json={"title": title}),
                lambda: services.put("/api/videos/7", json={"year": year}),
            )
            assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
            assert rows(url, "SELECT title, year FROM videos WHERE id = 7") == [(title, year)]


def test_an_existing_setting_written_from_both_sides_stays_one_row_with_a_written_value(
    pair: tuple[Pair, str],
) -> None:
    served, url = pair
    written: set[str] = set()
    with client(served, "legacy") as legacy, client(served, "services") as services:
        for n in range(ROUNDS):
            values = (f"legacy-{n}", f"services-{n}")
            written.update(values)
            answers = at_once(
                lambda: legacy.put("/api/settings/app_port", json={"value": values[0]}),
                lambda: services.put("/api/settings/app_port", json={"value": values[1]}),
            )
            assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
            stored = rows(url, f"SELECT value FROM settings WHERE {_key(url)} = 'app_port'")
            assert len(stored) == 1 and stored[0][0] in values


def test_a_new_setting_created_from_both_sides_at_once_is_one_row(pair: tuple[Pair, str]) -> None:
    served, url = pair
    with client(served, "legacy") as legacy, client(served, "services") as services:
        for n in range(ROUNDS):
            key = f"race_key_{n}"
            answers = at_once(
                lambda: legacy.put(f"/api/settings/{key}", json={"value": "from legacy"}),
                lambda: services.put(f"/api/settings/{key}", json={"value": "from services"}),
            )
            # the loser of the insert race may fail (legacy answers its 500 then, as it always did);
            # the unique key never lets a second row in
            assert all(a.status_code in (200, 409, 500, 503) for a in answers)
            assert any(a.status_code == 200 for a in answers)
            stored = rows(url, f"SELECT value FROM settings WHERE {_key(url)} = :k", k=key)
            assert len(stored) == 1


def _key(url: str) -> str:
    """The settings table's `key` column, quoted for the backend (KEY is reserved in MariaDB)."""
    return "`key`" if url.startswith("mysql") else '"key"'


def test_a_setting_key_equal_under_the_collation_updates_the_row_instead_of_failing(
    pair: tuple[Pair, str],
) -> None:
    # Regression (found by the OpenAPI fuzzer on MariaDB): services matched existing keys by exact
    # string, MariaDB's unique key by collation, so PUT /api/settings/App_Theme inserted a second
    # 'app_theme' and answered 500 where legacy updates the row.
    served, url = pair
    with client(served, "services") as services, client(served, "legacy") as legacy:
        for side in (legacy, services):
            answer = side.put("/api/settings/App_Theme", json={"value": "dark"})
            assert answer.status_code == 200, answer.text
        answer = services.put("/api/settings/bulk", json={"settings": {"new_key": "1", "NEW_KEY": "2"}})
        assert answer.status_code == 200, answer.text
    keys = [k for (k,) in rows(url, f"SELECT {_key(url)} FROM settings")]
    if url.startswith("mysql"):
        assert sum(k.lower() == "app_theme" for k in keys) == 1
        assert sum(k.lower() == "new_key" for k in keys) == 1


def test_videos_added_to_one_playlist_from_both_sides_are_all_there_once_and_reorder_fixes_positions(
    pair: tuple[Pair, str],
) -> None:
    served, url = pair
    playlist = rows(url, "SELECT id FROM playlists WHERE user_id = 1 ORDER BY id LIMIT 1")
    if not playlist:
        with client(served, "legacy") as legacy:
            created = legacy.post("/api/playlists/", json={"name": "race"}).json()
        playlist_id = int(created["playlist"]["id"])
    else:
        playlist_id = int(playlist[0][0])
    present = {
        v for (v,) in rows(url, "SELECT video_id FROM playlist_entries WHERE playlist_id = :p", p=playlist_id)
    }
    candidates = [v for (v,) in rows(url, "SELECT id FROM videos ORDER BY id LIMIT 200") if v not in present]
    legacy_ids, services_ids = candidates[0:40:2], candidates[1:40:2]
    answers: dict[str, list[httpx.Response]] = {"legacy": [], "services": []}

    def add_all(side: str, ids: list[int]) -> None:
        with client(served, side) as http:
            for vid in ids:
                answers[side].append(
                    http.post(f"/api/playlists/{playlist_id}/videos", json={"video_ids": [vid]})
                )

    threads = [
        threading.Thread(target=add_all, args=("legacy", legacy_ids)),
        threading.Thread(target=add_all, args=("services", services_ids)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    added = {
        vid
        for side, ids in (("legacy", legacy_ids), ("services", services_ids))
        for vid, answer in zip(ids, answers[side], strict=True)
        if answer.status_code == 200
    }
    assert all(a.status_code in (200, 500, 503) for side in answers.values() for a in side)
    entries = rows(
        url,
        "SELECT id, video_id, position FROM playlist_entries WHERE playlist_id = :p ORDER BY id",
        p=playlist_id,
    )
    video_ids = [vid for _, vid, _ in entries]
    assert len(video_ids) == len(set(video_ids)), "a video is in the playlist twice"
    assert added <= set(video_ids), "an acknowledged add is missing"
    # every entry in the reorder, in the order the database holds them, from services
    orders = {"entry_orders": [{"id": entry_id, "position": n} for n, (entry_id, _, _) in enumerate(entries)]}
    with client(served, "services") as services:
        answer = services.post(f"/api/playlists/{playlist_id}/videos/reorder", json=orders)
    assert answer.status_code == 200, answer.text
    positions = [
        p for (p,) in rows(url, "SELECT position FROM playlist_entries WHERE playlist_id = :p", p=playlist_id)
    ]
    assert sorted(positions) == list(range(len(positions)))
