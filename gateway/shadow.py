"""Shadow traffic: mirror a safe request to the target after legacy has answered, and diff.

The client's answer never waits for the target. The proxy hands a :class:`ShadowJob` (the
request and legacy's already-sent answer) to :meth:`ShadowMirror.submit`, which only does a
``put_nowait`` on a bounded queue: when the queue is full the job is dropped and counted.
Workers send the mirrored request with httpx, marked ``X-Figway-Shadow: 1`` (its headers are built
by :mod:`gateway.forwarding`, like every forwarded request's); when the route
learns noise they also ask legacy a second time (see :mod:`gateway.diff`). Results go to a
:class:`DiffStore`: a ring buffer of recent diffs per route, counts, the diff rate and, if
configured, a JSONL file.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog

from gateway.diff import DiffConfig, Difference, NoiseFilter, Sample, compare
from gateway.differences import Mirrored, Registry

log = structlog.get_logger("gateway.shadow")

SHADOW_HEADER = "X-Figway-Shadow"
DEFAULT_QUEUE_SIZE = 1000
DEFAULT_WORKERS = 4
DEFAULT_MAX_BODY = 1 << 20
DEFAULT_RECENT = 100
#: Diffs kept per route with both answers for the diff viewer, and the bytes kept of each answer:
#: at most 20 x 2 x 32 KiB = 1.25 MiB per shadowed route (answers may hold user data: admin only).
DEFAULT_VIEWS = 20
VIEW_BODY_LIMIT = 32 * 1024
#: The methods mirrored to the target (the cutover decides per request; the mirror refuses others).
SHADOW_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class ShadowJob:
    route_id: str
    method: str
    target_url: str
    headers: Sequence[tuple[str, str]]
    legacy: Sample
    config: DiffConfig = field(default_factory=DiffConfig)
    legacy_url: str | None = None
    """Set when the route learns noise: legacy is asked a second time at this URL."""
    request_id: str = ""
    path: str = ""


@dataclass(frozen=True, slots=True)
class DiffRecord:
    at: float
    route_id: str
    request_id: str
    method: str
    path: str
    legacy_status: int
    target_status: int | None
    differences: tuple[Difference, ...]
    error: str | None = None
    #: Differences the registry of deliberate differences excused, and the entries that did.
    excused: tuple[Difference, ...] = ()
    excused_by: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        job: ShadowJob,
        at: float,
        target_status: int | None,
        differences: tuple[Difference, ...],
        error: str | None = None,
        excused: tuple[Difference, ...] = (),
        excused_by: tuple[str, ...] = (),
    ) -> DiffRecord:
        """The outcome of one mirrored ``job``."""
        return cls(
            at,
            job.route_id,
            job.request_id,
            job.method,
            job.path,
            job.legacy.status,
            target_status,
            differences,
            error,
            excused,
            excused_by,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "route": self.route_id,
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "legacy_status": self.legacy_status,
            "target_status": self.target_status,
            "differences": [d.as_json() for d in self.differences],
            "error": self.error,
            "excused": [d.as_json() for d in self.excused],
            "excused_by": list(self.excused_by),
        }


@dataclass(frozen=True, slots=True)
class Answers:
    """Both answers of one mirrored request, as far as the diff viewer keeps them (truncated)."""

    legacy_type: str
    legacy_body: bytes
    target_type: str
    target_body: bytes
    legacy_size: int
    target_size: int

    @classmethod
    def of(cls, legacy: Sample, target: Sample, limit: int = VIEW_BODY_LIMIT) -> Answers:
        return cls(
            legacy.content_type,
            legacy.body[:limit],
            target.content_type,
            target.body[:limit],
            len(legacy.body),
            len(target.body),
        )


@dataclass(frozen=True, slots=True)
class DiffView:
    """A diff with both answers: what the dashboard's diff viewer shows side by side."""

    record: DiffRecord
    answers: Answers


@dataclass
class RouteDiffs:
    recent: collections.deque[DiffRecord]
    #: The newest diffs with their answers (excused-only ones too): the diff viewer's.
    views: collections.deque[DiffView] = field(
        default_factory=lambda: collections.deque(maxlen=DEFAULT_VIEWS)
    )
    compared: int = 0
    differing: int = 0
    errors: int = 0
    dropped: int = 0
    noise: NoiseFilter = field(default_factory=NoiseFilter)

    @property
    def rate(self) -> float:
        return self.differing / self.compared if self.compared else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "differing": self.differing,
            "errors": self.errors,
            "dropped": self.dropped,
            "diff_rate": self.rate,
            "noise": list(self.noise.paths),
        }


class DiffStore:
    """Recent diffs and counts per route, bounded; optionally appended to a JSONL file."""

    def __init__(self, *, recent: int = DEFAULT_RECENT, jsonl: Path | None = None) -> None:
        self._recent = recent
        self._jsonl = jsonl
        self._routes: dict[str, RouteDiffs] = {}
        #: Called with every record (the flip evidence counts comparisons: ``gateway.gates``).
        self.listeners: list[Callable[[DiffRecord], None]] = []

    def route(self, route_id: str) -> RouteDiffs:
        entry = self._routes.get(route_id)
        if entry is None:
            entry = self._routes[route_id] = RouteDiffs(collections.deque(maxlen=self._recent))
        return entry

    def routes(self) -> Mapping[str, RouteDiffs]:
        return self._routes

    def count_dropped(self, route_id: str) -> None:
        self.route(route_id).dropped += 1

    async def record(self, record: DiffRecord, answers: Answers | None = None) -> None:
        for listener in self.listeners:
            listener(record)
        entry = self.route(record.route_id)
        if record.error is not None:
            entry.errors += 1
        else:
            entry.compared += 1
            if record.differences:
                entry.differing += 1
        if answers is not None and (record.differences or record.excused):
            entry.views.append(DiffView(record, answers))
        if record.differences or record.error is not None:
            entry.recent.append(record)
            if self._jsonl is not None:
                await asyncio.to_thread(self._append, json.dumps(record.as_json(), default=str))

    def _append(self, line: str) -> None:
        assert self._jsonl is not None
        self._jsonl.parent.mkdir(parents=True, exist_ok=True)
        with self._jsonl.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def recent(self, route_id: str | None = None, limit: int = 50) -> list[DiffRecord]:
        if route_id is not None:
            entry = self._routes.get(route_id)
            records = list(entry.recent) if entry else []
        else:
            records = sorted((r for e in self._routes.values() for r in e.recent), key=lambda r: r.at)
        return records[-limit:][::-1]

    def views(self, route_id: str | None = None, limit: int = DEFAULT_VIEWS) -> list[DiffView]:
        """Diffs with their answers, newest first (one route, or every route)."""
        entries = [self._routes[route_id]] if route_id in self._routes else []
        if route_id is None:
            entries = list(self._routes.values())
        found = sorted((v for e in entries for v in e.views), key=lambda v: v.record.at, reverse=True)
        return found[:limit]

    def forget(self, route_ids: set[str]) -> None:
        """Drop routes no longer in the table (after a reload)."""
        for route_id in [r for r in self._routes if r not in route_ids]:
            del self._routes[route_id]


class ShadowMirror:
    """Bounded queue + workers that mirror requests to the target and diff the answers."""

    def __init__(
        self,
        store: DiffStore,
        *,
        client: httpx.AsyncClient | None = None,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        workers: int = DEFAULT_WORKERS,
        max_body: int = DEFAULT_MAX_BODY,
        timeout: float = 10.0,
        registry: Registry | None = None,
    ) -> None:
        self.store = store
        #: Deliberate differences (``differences.yaml``): excused, not counted.
        self.registry = registry or Registry()
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=workers * 2, max_keepalive_connections=workers * 2),
        )
        self._queue: asyncio.Queue[ShadowJob] = asyncio.Queue(maxsize=queue_size)
        self._workers = workers
        self._tasks: list[asyncio.Task[None]] = []
        self._max_body = max_body
        self.submitted = 0
        self.dropped = 0

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._work(), name=f"shadow-{i}") for i in range(self._workers)
            ]

    def submit(self, job: ShadowJob) -> bool:
        """Queue a job without ever waiting; ``False`` (and counted) when the queue is full."""
        if job.method not in SHADOW_METHODS:
            raise ValueError(f"shadow mirrors only safe methods, not {job.method}")
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            self.dropped += 1
            self.store.count_dropped(job.route_id)
            return False
        self.submitted += 1
        return True

    async def drain(self) -> None:
        """Wait until every queued job has been handled (tests, graceful shutdown)."""
        await self._queue.join()

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._owns_client:
            await self._client.aclose()

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self._handle(job)
            except Exception as exc:  # a worker must survive anything one job does
                log.warning("shadow.failed", route=job.route_id, error=repr(exc))
            finally:
                self._queue.task_done()

    async def _fetch(self, method: str, url: str, headers: Sequence[tuple[str, str]]) -> Sample:
        marked = [(k, v) for k, v in headers if k.lower() != SHADOW_HEADER.lower()]
        request = self._client.build_request(method, url, headers=[*marked, (SHADOW_HEADER, "1")])
        response = await self._client.send(request, stream=True)
        try:
            body = bytearray()
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) > self._max_body:
                    break
        finally:
            await response.aclose()
        return Sample(
            response.status_code,
            response.headers.get("content-type", ""),
            bytes(body[: self._max_body]),
            {k.lower(): v for k, v in response.headers.items()},
        )

    async def _handle(self, job: ShadowJob) -> None:
        entry = self.store.route(job.route_id)
        started = time.time()
        try:
            target = await self._fetch(job.method, job.target_url, job.headers)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}".rstrip(": ")
            await self.store.record(DiffRecord.of(job, started, None, (), error=error))
            return
        if job.legacy_url is not None:
            try:
                again = await self._fetch(job.method, job.legacy_url, job.headers)
            except httpx.HTTPError as exc:
                log.info("shadow.noise_probe_failed", route=job.route_id, error=repr(exc))
            else:
                learnt = entry.noise.learn(job.legacy, again, job.config)
                if learnt:
                    log.info("shadow.noise_learnt", route=job.route_id, paths=learnt)
        differences = compare(job.legacy, target, job.config, entry.noise.paths)
        excused: tuple[Difference, ...] = ()
        excused_by: list[str] = []
        if differences and len(self.registry):
            mirrored = Mirrored(
                job.method,
                job.target_url,
                job.headers,
                job.legacy.status,
                job.legacy.body,
                target.status,
                target.body,
            )
            kept, excused_by = self.registry.excuse(mirrored, [d.path for d in differences])
            if excused_by:
                log.info(
                    "shadow.excused",
                    route=job.route_id,
                    entries=excused_by,
                    excused=len(differences) - len(kept),
                )
                chosen = set(kept)
                excused = tuple(d for index, d in enumerate(differences) if index not in chosen)
                differences = [differences[index] for index in kept]
        record = DiffRecord.of(
            job, started, target.status, tuple(differences), excused=excused, excused_by=tuple(excused_by)
        )
        await self.store.record(record, Answers.of(job.legacy, target))
        if differences:
            log.info(
                "shadow.diff",
                route=job.route_id,
                request_id=job.request_id,
                paths=[d.path for d in differences[:10]],
            )
