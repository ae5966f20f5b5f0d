"""Type aliases shared by the gateway modules (ASGI callables and the clock)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Seconds since the epoch (UTC). Injected wherever the gateway needs "now", so tests can travel in time.
Clock = Callable[[], float]
