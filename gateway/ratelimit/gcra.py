"""GCRA, the generic cell rate algorithm, and the in-process bucket store built on it.

One number per key, the theoretical arrival time (TAT) of the next request at the sustained rate.
A request is admitted when admitting it would not push TAT further than ``tolerance`` ahead of now;
an admitted request moves TAT on by ``interval``; a refused one changes nothing, so a client that
keeps hammering is not locked out for longer than its excess. ``gateway.ratelimit.redis_store`` runs
the same arithmetic in a Lua script so that every replica shares one TAT per key.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.ratelimit.policy import Quota

#: Keys kept by one process before expired ones are swept (and, if that is not enough, the oldest).
MAX_LOCAL_KEYS = 100_000
_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    #: Requests still admitted right now.
    remaining: int
    #: Seconds until a refused request would be admitted (0 when allowed).
    retry_after: float
    #: Seconds until the whole burst is available again.
    reset_after: float


def gcra(tat: float | None, now: float, quota: Quota) -> tuple[Verdict, float | None]:
    """The verdict for one request and the new TAT to store (``None``: store nothing)."""
    tat = now if tat is None or tat < now else tat
    new_tat = tat + quota.interval
    # Compared as a difference with a nanosecond of slack: ``now + T - T`` is not always ``now`` in
    # floating point, and a full bucket must never refuse its first request.
    excess = (new_tat - now) - quota.tolerance
    if excess > _SLACK:
        return Verdict(False, 0, excess, tat - now), None
    # The small epsilon keeps float error from rounding a whole remaining request away.
    remaining = math.floor((quota.tolerance - (new_tat - now)) / quota.interval + 1e-9)
    return Verdict(True, max(remaining, 0), 0.0, new_tat - now), new_tat


class LocalBuckets:
    """GCRA state in this process only: the store of last resort when Redis cannot be reached."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_LOCAL_KEYS
    ) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._tats: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._tats)

    def take(self, key: str, quota: Quota) -> Verdict:
        key = f"{quota.route}\0{quota.name}\0{key}"  # each route and policy has its own budgets
        now = self._clock()
        verdict, new_tat = gcra(self._tats.get(key), now, quota)
        if new_tat is not None:
            if key not in self._tats and len(self._tats) >= self._max_keys:
                self._sweep(now)
            self._tats[key] = new_tat
        return verdict

    def _sweep(self, now: float) -> None:
        # A TAT in the past is the same as no entry at all: forgetting it changes no verdict.
        expired = [key for key, tat in self._tats.items() if tat <= now]
        for key in expired:
            del self._tats[key]
        while len(self._tats) >= self._max_keys:
            del self._tats[next(iter(self._tats))]  # the oldest inserted: a bounded memory beats exactness
