"""Event-loop lag, measured the way the issue's test measures it: a ticker task asks to wake
every `interval` seconds and records how late it woke. Exposed as Prometheus metrics, so a
benchmark (or an operator) can read the worst lag of a live server."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import Gauge, Histogram

INTERVAL = 0.01
LAG = Histogram(
    "figway_event_loop_lag_seconds",
    "How late the event loop woke a 10 ms ticker",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0),
)
WORST = Gauge("figway_event_loop_lag_max_seconds", "Worst event-loop lag seen since start")


async def watch(interval: float = INTERVAL) -> None:
    worst = 0.0
    while True:
        before = time.perf_counter()
        await asyncio.sleep(interval)
        lag = max(0.0, time.perf_counter() - before - interval)
        LAG.observe(lag)
        if lag > worst:
            worst = lag
            WORST.set(worst)


@asynccontextmanager
async def loop_monitor(app: FastAPI) -> AsyncIterator[None]:
    task = asyncio.create_task(watch(), name="figway-loop-monitor")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
