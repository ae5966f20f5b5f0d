from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.pins.redis_store import RedisPinStore
from gateway.pins.sharing import PinSharing, build_pin_store
from gateway.pins.store import JsonFilePinStore, MemoryPinStore, Pins
from tests.support.redis import redis_server


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with redis_server(tmp_path / "redis") as url:
        yield url


async def test_pin_saved_by_one_store_is_loaded_by_another(redis_url: str) -> None:
    one, two = RedisPinStore(redis_url), RedisPinStore(redis_url)
    pins_one, pins_two = Pins(one), Pins(two)
    await pins_one.load()
    await pins_two.load()
    await pins_one.pin("videos-list", "error rate 30% > 2%", fingerprint="abc")
    assert await two.changed()
    await pins_two.load()
    pin = pins_two.get("videos-list")
    assert pin is not None
    assert (pin.reason, pin.fingerprint, pin.by) == ("error rate 30% > 2%", "abc", "guard")
    assert not await two.changed()
    await one.aclose()
    await two.aclose()


async def test_concurrent_pins_of_two_routes_on_two_replicas_both_survive(redis_url: str) -> None:
    one, two = RedisPinStore(redis_url), RedisPinStore(redis_url)
    pins_one, pins_two = Pins(one), Pins(two)
    await pins_one.load()
    await pins_two.load()
    # Neither has seen the other's pin when it writes its own.
    await asyncio.gather(pins_one.pin("a", "x"), pins_two.pin("b", "y"))
    assert set(await RedisPinStore(redis_url).load()) == {"a", "b"}
    await one.aclose()
    await two.aclose()


async def test_release_on_one_replica_is_not_undone_by_a_stale_one(redis_url: str) -> None:
    one, two = RedisPinStore(redis_url), RedisPinStore(redis_url)
    pins_one, pins_two = Pins(one), Pins(two)
    await pins_one.pin("a", "x")
    await pins_two.load()
    assert await pins_one.release("a")
    # Replica two has not reloaded yet and pins another route: "a" must stay released.
    await pins_two.pin("b", "y")
    assert set(await RedisPinStore(redis_url).load()) == {"b"}
    await one.aclose()
    await two.aclose()


async def test_follow_reloads_pins_made_elsewhere(redis_url: str) -> None:
    writer, reader = RedisPinStore(redis_url), RedisPinStore(redis_url)
    pins = Pins(reader)
    await pins.load()
    sharing = PinSharing(reader, interval=0.02)
    assert sharing.shared
    sharing.start(pins)
    await Pins(writer).pin("settings", "operator", by="operator")
    for _ in range(500):
        if pins.get("settings") is not None:
            break
        await asyncio.sleep(0.01)
    found = pins.get("settings")
    assert found is not None and found.by == "operator"
    await sharing.aclose()
    await writer.aclose()


async def test_redis_down_keeps_last_known_pins_and_never_raises(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as url:
        store = RedisPinStore(url)
        pins = Pins(store)
        await pins.pin("a", "x")
    # The server is gone now.
    assert await store.changed() is False
    assert set(await store.load()) == {"a"}
    await pins.pin("b", "y")  # logged, applies locally
    assert pins.get("b") is not None
    assert await store.ping() is False
    await store.aclose()


def test_unreadable_pin_is_skipped(redis_url: str) -> None:
    async def scenario() -> dict[str, object]:
        store = RedisPinStore(redis_url)
        await store._redis.hset(
            store.key, mapping={"bad": "{not json", "good": '{"route_id": "good", "reason": "r", "at": 1.0}'}
        )
        pins = await store.load()
        await store.aclose()
        return dict(pins)

    assert list(asyncio.run(scenario())) == ["good"]


def test_store_choice_follows_settings(tmp_path: Path) -> None:
    assert isinstance(build_pin_store(redis_url="redis://127.0.0.1:1/0"), RedisPinStore)
    assert isinstance(build_pin_store(state_dir=tmp_path), JsonFilePinStore)
    assert isinstance(build_pin_store(), MemoryPinStore)


async def test_local_store_sharing_is_a_no_op(tmp_path: Path) -> None:
    sharing = PinSharing(JsonFilePinStore(tmp_path / "pins.json"))
    assert not sharing.shared
    sharing.start(Pins())
    await sharing.aclose()


async def test_refresh_keeps_a_mark_not_saved_yet_and_sees_other_replicas(redis_url: str) -> None:
    mine, theirs = Pins(RedisPinStore(redis_url)), Pins(RedisPinStore(redis_url))
    await theirs.pin("b", "theirs")
    mine.mark("a", "guard breach")  # its save is still queued when the follower reloads
    await mine.refresh()
    assert set(mine.all()) == {"a", "b"}
    await mine.persist()
    assert set(await RedisPinStore(redis_url).load()) == {"a", "b"}
    await theirs.refresh()
    assert await theirs.release("a")
    await mine.refresh()
    assert set(mine.all()) == {"b"}  # saved pins follow the shared store, releases included
