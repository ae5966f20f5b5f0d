"""Routing-table revisions: numbered without collisions, bounded, atomic, in a file or in Redis."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.loader import parse_table
from gateway.revision_log import build_revision_store, record_loaded
from gateway.revisions import FileRevisionStore, Revision, RevisionStore, draft, write_atomically
from gateway.revisions_redis import RedisRevisionStore
from tests.support.redis import shared_redis


def _text(n: int) -> str:
    return f"version: 1\nupstreams:\n  legacy: {{url: 'http://127.0.0.1:{1000 + n}'}}\ndefault: legacy\n"


def _draft(n: int, source: str = "file") -> Revision:
    text = _text(n)
    return draft(
        at=float(n), sha256=hashlib.sha256(text.encode()).hexdigest(), source=source, text=text, path="r"
    )


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with shared_redis(Path(tmp_path_factory.mktemp("redis"))) as url:
        yield url


@pytest.fixture(params=["file", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RevisionStore]:
    if request.param == "file":
        yield FileRevisionStore(tmp_path / "history", keep=5)
        return
    url = request.getfixturevalue("redis_url")
    redis_store = RedisRevisionStore(url, prefix=f"figway-history-test-{uuid.uuid4().hex[:12]}", keep=5)
    yield redis_store
    redis_store.close()


def test_revisions_are_numbered_newest_first_with_who_and_what(store: RevisionStore) -> None:
    first = store.append(_draft(1, "start"))
    second = store.append(
        draft(
            at=2.0,
            sha256="b" * 64,
            source="revert",
            text="x",
            path="r",
            by="ann",
            reason="bad",
            reverted_to=1,
        )
    )
    assert first is not None and second is not None
    assert (first.number, second.number) == (1, 2)
    assert [r.number for r in store.recent(10)] == [2, 1]
    got = store.get(2)
    assert got is not None
    assert (got.source, got.by, got.reason, got.reverted_to, got.text) == ("revert", "ann", "bad", 1, "x")
    assert got.pid > 0 and got.host
    assert store.get(3) is None


def test_the_same_table_as_the_newest_is_not_recorded_twice(store: RevisionStore) -> None:
    assert store.append(_draft(1)) is not None
    assert store.append(_draft(1)) is None  # a second worker reloading the same edit
    assert store.append(_draft(2)) is not None
    assert store.append(_draft(1)) is not None  # back to an older table is a change
    assert store.append(_draft(1), unless_newest=False) is not None  # a revert is always recorded
    assert [r.number for r in store.recent(10)] == [4, 3, 2, 1]


def test_only_the_newest_are_kept(store: RevisionStore) -> None:
    for n in range(1, 9):
        store.append(_draft(n))
    assert [r.number for r in store.recent(100)] == [8, 7, 6, 5, 4]
    assert store.get(3) is None


def test_concurrent_writers_never_share_a_number(store: RevisionStore) -> None:
    numbers: list[int] = []
    lock = threading.Lock()

    def write(base: int) -> None:
        for n in range(base, base + 10):
            recorded = store.append(_draft(n), unless_newest=False)
            assert recorded is not None
            with lock:
                numbers.append(recorded.number)

    threads = [threading.Thread(target=write, args=(100 * i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(1, 41))


def test_two_file_stores_on_one_directory_share_the_numbering(tmp_path: Path) -> None:
    one, two = FileRevisionStore(tmp_path / "h"), FileRevisionStore(tmp_path / "h")
    recorded = [one.append(_draft(1)), two.append(_draft(2)), one.append(_draft(3))]
    assert [r.number for r in recorded if r is not None] == [1, 2, 3]
    assert [r.number for r in two.recent(5)] == [3, 2, 1]


def test_atomic_write_keeps_the_mode_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "routing.yaml"
    target.write_text("old\n")
    target.chmod(0o640)
    write_atomically(target, "new\n", mode=0o640)
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["routing.yaml"]


def test_the_store_follows_the_settings(tmp_path: Path, redis_url: str) -> None:
    assert build_revision_store() is None
    assert isinstance(build_revision_store(state_dir=tmp_path), FileRevisionStore)
    redis_store = build_revision_store(redis_url=redis_url, state_dir=tmp_path)
    assert isinstance(redis_store, RedisRevisionStore)
    redis_store.close()


def test_a_loaded_table_is_recorded_only_while_the_file_still_holds_it(tmp_path: Path) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text(_text(1))
    table = parse_table(_text(1), source=str(routing))
    store = FileRevisionStore(tmp_path / "history")
    recorded = record_loaded(store, table, "start")
    assert recorded is not None and recorded.text == _text(1) and recorded.path == str(routing)
    routing.write_text(_text(2))  # moved on before this reload was recorded: the next reload records it
    assert record_loaded(store, parse_table(_text(1) + "\n", source=str(routing)), "file") is None
    routing.unlink()
    assert record_loaded(store, table, "file") is None
    assert [r.number for r in store.recent(5)] == [1]
