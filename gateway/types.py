"""Type aliases shared by the gateway modules (ASGI callables, the clock, a rollout phase)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Seconds since the epoch (UTC). Injected wherever the gateway needs "now", so tests can travel in time.
Clock = Callable[[], float]


class PhaseLike(Protocol):
    """A compiled rollout phase as the load-time checks and the calendar read it."""

    @property
    def start(self) -> float: ...
    @property
    def mode(self) -> str: ...
    @property
    def percent(self) -> float | None: ...
