"""Recent history of one route side: fixed 10-second buckets in a ring covering the last hour.

The dashboard's windowed figures (last 5 minutes, last hour: requests, error rate, p99) and its
charts read this; the request path only adds to it. :meth:`Series.add` is O(1): the bucket of an
instant is ``int(now // BUCKET_SECONDS) % BUCKETS``; a bucket whose epoch is stale is zeroed the
first time it is written again, so nothing ever sweeps the ring. Latency goes into a fixed
histogram per bucket (``LATENCY_BOUNDS_MS``, found with ``bisect``), from which a window's p99 is
interpolated like Prometheus' ``histogram_quantile``.

Memory is fixed per route side: ``array`` storage of 360 epochs (8 bytes), counts and errors (4
bytes each) and 360 x 16 histogram cells (4 bytes): ``SERIES_BYTES`` ~ 26 KiB, ~52 KiB per route.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass

BUCKET_SECONDS = 10
BUCKETS = 360  # one hour
#: Upper bounds of the latency histogram's bins (ms); one more bin holds everything above.
LATENCY_BOUNDS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 350, 500, 1000, 2000, 5000, 10000, 30000)
BINS = len(LATENCY_BOUNDS_MS) + 1
SERIES_BYTES = BUCKETS * (8 + 4 + 4 + 4 * BINS)
#: The windows the read model reports, by name.
WINDOWS = {"5m": 300, "1h": 3600}


@dataclass(frozen=True, slots=True)
class WindowFigures:
    """One side's numbers over a window (what the dashboard shows per route and side)."""

    requests: int
    errors: int
    error_rate: float
    p99_ms: float | None
    #: Requests per second over the window.
    rate: float


@dataclass(frozen=True, slots=True)
class Point:
    """One chart point: the start of its interval (epoch seconds), requests and errors in it."""

    at: float
    requests: int
    errors: int


class Series:
    """The last hour of one route side, in 10-second buckets (see the module docstring)."""

    __slots__ = ("_counts", "_epochs", "_errors", "_hist", "last_at")

    def __init__(self) -> None:
        self._epochs = array("q", [-1]) * BUCKETS
        self._counts = array("I", [0]) * BUCKETS
        self._errors = array("I", [0]) * BUCKETS
        self._hist = array("I", [0]) * (BUCKETS * BINS)
        #: Wall-clock time of the last request counted (None: none yet).
        self.last_at: float | None = None

    def add(self, now: float, latency_ms: float, error: bool) -> None:
        epoch = int(now // BUCKET_SECONDS)
        slot = epoch % BUCKETS
        if self._epochs[slot] != epoch:
            self._reset(slot, epoch)
        self._counts[slot] += 1
        if error:
            self._errors[slot] += 1
        self._hist[slot * BINS + bisect_left(LATENCY_BOUNDS_MS, latency_ms)] += 1
        self.last_at = now

    def _reset(self, slot: int, epoch: int) -> None:
        self._epochs[slot] = epoch
        self._counts[slot] = 0
        self._errors[slot] = 0
        base = slot * BINS
        self._hist[base : base + BINS] = array("I", [0]) * BINS

    def _slots(self, now: float, seconds: float) -> list[int]:
        """The ring slots holding the buckets of the last ``seconds`` (the current one included)."""
        newest = int(now // BUCKET_SECONDS)
        count = min(BUCKETS, max(1, int(seconds // BUCKET_SECONDS)))
        epochs = self._epochs
        return [e % BUCKETS for e in range(newest - count + 1, newest + 1) if epochs[e % BUCKETS] == e]

    def window(self, now: float, seconds: float) -> WindowFigures:
        slots = self._slots(now, seconds)
        requests = sum(self._counts[s] for s in slots)
        errors = sum(self._errors[s] for s in slots)
        p99 = None
        if requests:
            bins = [0] * BINS
            for slot in slots:
                base = slot * BINS
                for i, n in enumerate(self._hist[base : base + BINS]):
                    bins[i] += n
            p99 = quantile(bins, 0.99)
        return WindowFigures(
            requests, errors, errors / requests if requests else 0.0, p99, requests / seconds
        )

    def points(self, now: float, seconds: float = 3600, step: int = 60) -> list[Point]:
        """``seconds`` of history in ``step``-second intervals, oldest first, empty ones included."""
        per = max(1, step // BUCKET_SECONDS)
        newest = int(now // BUCKET_SECONDS)
        count = min(BUCKETS, max(per, int(seconds // BUCKET_SECONDS))) // per * per
        first = newest - count + 1
        out: list[Point] = []
        for start in range(first, newest + 1, per):
            requests = errors = 0
            for epoch in range(start, start + per):
                slot = epoch % BUCKETS
                if self._epochs[slot] == epoch:
                    requests += self._counts[slot]
                    errors += self._errors[slot]
            out.append(Point(float(start * BUCKET_SECONDS), requests, errors))
        return out


def quantile(bins: list[int], q: float) -> float | None:
    """The ``q`` quantile of a histogram over ``LATENCY_BOUNDS_MS``, interpolated within its bin.

    Above the last bound there is no upper edge: the last bound is the answer (a floor)."""
    total = sum(bins)
    if not total:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(bins):
        if n and seen + n >= rank:
            if i >= len(LATENCY_BOUNDS_MS):
                return float(LATENCY_BOUNDS_MS[-1])
            lower = 0.0 if i == 0 else float(LATENCY_BOUNDS_MS[i - 1])
            upper = float(LATENCY_BOUNDS_MS[i])
            return lower + (upper - lower) * (rank - seen) / n
        seen += n
    return float(LATENCY_BOUNDS_MS[-1])  # pragma: no cover - rank <= total always lands above
