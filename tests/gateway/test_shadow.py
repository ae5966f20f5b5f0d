from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.diff import DiffConfig, Sample
from gateway.shadow import DiffStore, ShadowJob, ShadowMirror
from tests.support.servers import RunningServer, free_port, uvicorn_thread


class Upstream:
    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[dict[str, str]] = []
        self.counter = itertools.count()
        self.gate: asyncio.Event | None = None
        self.title = "Take On Me"

    def app(self) -> Starlette:
        async def videos(request: Request) -> JSONResponse:
            self.seen.append(dict(request.headers))
            if request.query_params.get("slow"):
                await asyncio.sleep(float(request.query_params["slow"]))
            return JSONResponse(
                {
                    "videos": [{"id": 1, "title": self.title}],
                    "generated": next(self.counter),
                    "side": self.name,
                }
            )

        return Starlette(routes=[Route("/api/videos/", videos)])


@pytest.fixture
def target() -> Iterator[tuple[Upstream, RunningServer]]:
    upstream = Upstream("target")
    with uvicorn_thread(upstream.app()) as server:
        yield upstream, server


def _legacy(body: dict[str, object]) -> Sample:
    # Written as the test upstreams write JSON (Starlette: compact), so that only values differ.
    return Sample(200, "application/json", json.dumps(body, separators=(",", ":")).encode())


def _job(url: str, legacy: Sample, **kw: object) -> ShadowJob:
    return ShadowJob(
        route_id="videos",
        method="GET",
        target_url=url,
        headers=[("cookie", "mvidarr_session=abc")],
        legacy=legacy,
        request_id="rid-1",
        path="/api/videos/",
        **kw,  # type: ignore[arg-type]
    )


async def test_mirrored_request_is_marked_and_diffed(target: tuple[Upstream, RunningServer]) -> None:
    upstream, server = target
    store = DiffStore()
    mirror = ShadowMirror(store, workers=1)
    mirror.start()
    try:
        legacy = _legacy({"videos": [{"id": 1, "title": "Take On Me"}], "generated": 0, "side": "legacy"})
        config = DiffConfig.build(ignore=["body.generated"])
        assert mirror.submit(_job(f"{server.url}/api/videos/", legacy, config=config))
        await mirror.drain()
    finally:
        await mirror.aclose()
    assert upstream.seen[0]["x-figway-shadow"] == "1"
    assert upstream.seen[0]["cookie"] == "mvidarr_session=abc"
    route = store.route("videos")
    assert (route.compared, route.differing, route.rate) == (1, 1, 1.0)
    [record] = store.recent("videos")
    assert [d.path for d in record.differences] == ["body.side"]
    assert record.as_json()["differences"][0] == {"path": "body.side", "legacy": "legacy", "target": "target"}
    assert store.recent() == [record]
    assert route.summary()["diff_rate"] == 1.0


async def test_full_queue_drops_and_counts(target: tuple[Upstream, RunningServer]) -> None:
    _, server = target
    store = DiffStore()
    mirror = ShadowMirror(store, workers=1, queue_size=2)
    legacy = _legacy({})
    accepted = [mirror.submit(_job(f"{server.url}/api/videos/?slow=0.01", legacy)) for _ in range(5)]
    assert accepted == [True, True, False, False, False]
    assert mirror.dropped == 3 and mirror.submitted == 2 and mirror.pending == 2
    assert store.route("videos").dropped == 3
    mirror.start()
    await mirror.drain()
    await mirror.aclose()
    assert store.route("videos").compared == 2


async def test_noise_learnt_from_a_second_legacy_call_is_suppressed(tmp_path: Path) -> None:
    legacy_up, target_up = Upstream("same"), Upstream("same")
    with uvicorn_thread(legacy_up.app()) as legacy_srv, uvicorn_thread(target_up.app()) as target_srv:
        store = DiffStore(jsonl=tmp_path / "diffs" / "shadow.jsonl")
        mirror = ShadowMirror(store, workers=1)
        mirror.start()
        try:
            # legacy's first answer, as the client got it: "generated" is a per-call counter (noise)
            first = _legacy({"videos": [{"id": 1, "title": "Take On Me"}], "generated": 100, "side": "same"})
            learning = _job(
                f"{target_srv.url}/api/videos/", first, legacy_url=f"{legacy_srv.url}/api/videos/"
            )
            mirror.submit(learning)
            await mirror.drain()
            assert store.route("videos").differing == 0
            assert list(store.route("videos").noise.paths) == ["body.generated"]
            assert legacy_up.seen[0]["x-figway-shadow"] == "1"
            # a real difference is still reported
            target_up.title = "Hunting High and Low"
            mirror.submit(_job(f"{target_srv.url}/api/videos/", first))
            await mirror.drain()
        finally:
            await mirror.aclose()
    route = store.route("videos")
    assert (route.compared, route.differing) == (2, 1)
    [record] = store.recent("videos")
    assert [d.path for d in record.differences] == ["body.videos[0].title"]
    lines = (tmp_path / "diffs" / "shadow.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["differences"][0]["path"] == "body.videos[0].title"


async def test_unreachable_target_counts_an_error() -> None:
    store = DiffStore()
    mirror = ShadowMirror(store, workers=1)
    mirror.start()
    try:
        mirror.submit(_job(f"http://127.0.0.1:{free_port()}/api/videos/", _legacy({})))
        await mirror.drain()
    finally:
        await mirror.aclose()
    route = store.route("videos")
    assert (route.errors, route.compared) == (1, 0)
    [record] = store.recent()
    assert record.error is not None and record.error.startswith("ConnectError")
    store.forget({"other"})
    assert store.routes() == {}


def test_shadow_refuses_unsafe_methods() -> None:
    async def scenario() -> None:
        mirror = ShadowMirror(DiffStore())
        try:
            with pytest.raises(ValueError):
                mirror.submit(ShadowJob("r", "POST", "http://x/", [], Sample(200)))
        finally:
            await mirror.aclose()

    asyncio.run(scenario())


async def test_target_body_is_capped_at_max_body(target: tuple[Upstream, RunningServer]) -> None:
    _, server = target
    store = DiffStore()
    mirror = ShadowMirror(store, workers=1, max_body=10)
    mirror.start()
    try:
        mirror.submit(_job(f"{server.url}/api/videos/", _legacy({"videos": []})))
        await mirror.drain()
    finally:
        await mirror.aclose()
    [record] = store.recent("videos")
    [difference] = record.differences
    assert difference.path == "body" and difference.target == b'{"videos":'
