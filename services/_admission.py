"""Admission control: at most N requests inside the app at once, the rest wait in FIFO order.

With one event loop, every in-flight request re-queues behind all the others at each await
(a database round trip is several awaits), so 64 concurrent requests stretch each other's
latency and the slowest ones pay many rounds: the p99 grows far past the p50. Admitting a
few at a time, first come first served, keeps the database busy and finishes requests in
arrival order. Only the short, database-bound resource routes queue here: health checks
must not look down under load, and long or streaming endpoints (enrichment, system
commands) must not hold a slot for their whole duration.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

ADMITTED_PREFIXES = ("/api/videos", "/api/artists", "/api/playlists", "/api/settings")


class AdmissionLimit:
    def __init__(self, app: ASGIApp, *, max_in_flight: int) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.app = app
        self._slots = asyncio.Semaphore(max_in_flight)  # asyncio wakes waiters in FIFO order

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(ADMITTED_PREFIXES):
            await self.app(scope, receive, send)
            return
        async with self._slots:
            await self.app(scope, receive, send)
