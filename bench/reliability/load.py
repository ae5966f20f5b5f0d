"""A bounded closed-loop load generator: ``workers`` clients each send requests back to back until
``seconds`` pass or ``max_requests`` are sent, recording every outcome by request kind and by
time, so a scenario can say which requests failed and when."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Kind:
    """One kind of request in the mix: a name, a weight, and how to build it."""

    name: str
    method: str
    path: str | Callable[[], str]
    weight: int = 1
    body: Callable[[], dict[str, Any]] | None = None
    #: statuses that count as a correct answer for this kind
    ok: frozenset[int] = frozenset(range(200, 400))


@dataclass
class Outcome:
    kind: str
    started: float
    elapsed: float
    status: int | None  # None: no HTTP answer (connection error, client timeout)
    ok: bool
    error: str = ""
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadResult:
    outcomes: list[Outcome] = field(default_factory=list)

    def of(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == kind]

    def failed(self, kind: str | None = None) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok and (kind is None or o.kind == kind)]

    def statuses(self, kind: str | None = None) -> dict[str, int]:
        counts = Counter(
            str(o.status) if o.status is not None else (o.error or "no answer")
            for o in self.outcomes
            if kind is None or o.kind == kind
        )
        return dict(sorted(counts.items()))

    def p99_ms(self, kind: str | None = None) -> float:
        times = sorted(o.elapsed for o in self.outcomes if kind is None or o.kind == kind)
        if not times:
            return 0.0
        return times[min(len(times) - 1, int(len(times) * 0.99))] * 1000

    def max_ms(self, kind: str | None = None) -> float:
        return max((o.elapsed for o in self.outcomes if kind is None or o.kind == kind), default=0.0) * 1000


def unique_title(prefix: str = "rel") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


async def run_load(
    base_url: str,
    kinds: list[Kind],
    *,
    workers: int,
    seconds: float,
    max_requests: int = 1_000_000,
    timeout: float = 30.0,
    headers: dict[str, str] | None = None,
    keep_headers: tuple[str, ...] = ("x-gateway-route", "x-gateway-upstream"),
    pause: float = 0.0,
) -> LoadResult:
    result = LoadResult()
    weighted = [k for k in kinds for _ in range(k.weight)]
    sent = itertools.count()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)

    async def worker(client: httpx.AsyncClient, rng: random.Random) -> None:
        while time.monotonic() < deadline and next(sent) < max_requests:
            kind = rng.choice(weighted)
            path = kind.path() if callable(kind.path) else kind.path
            body = kind.body() if kind.body is not None else None
            started = time.monotonic()
            try:
                response = await client.request(kind.method, path, json=body)
            except httpx.HTTPError as exc:
                result.outcomes.append(
                    Outcome(
                        kind.name, started, time.monotonic() - started, None, False, type(exc).__name__, body
                    )
                )
            else:
                kept = {h: response.headers[h] for h in keep_headers if h in response.headers}
                result.outcomes.append(
                    Outcome(
                        kind.name,
                        started,
                        time.monotonic() - started,
                        response.status_code,
                        response.status_code in kind.ok,
                        "",
                        body,
                        kept,
                    )
                )
            if pause:
                await asyncio.sleep(pause)

    async with httpx.AsyncClient(
        base_url=base_url, timeout=timeout, limits=limits, headers=headers or {}
    ) as client:
        await asyncio.gather(*(worker(client, random.Random(n)) for n in range(workers)))
    return result
