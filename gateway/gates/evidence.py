"""Evidence counts of one route (under its evidence fingerprint) and whether they meet a gate.

Counts are plain integers under flat names, so that every store can add them up atomically
(Redis ``HINCRBY``): ``shadow.compared``, ``shadow.differing``, ``shadow.errors``, and per canary
side (``canary.target.*``, ``canary.legacy.*``) ``requests``, ``errors`` and a geometric latency
histogram (``h<bin>``, 20 % wide bins from 0.5 ms), from which the p99 is read as an upper bound.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.gates.rules import Gate

BINS = 80
_BASE_MS = 0.5
_RATIO = 1.2
_UPPER = [_BASE_MS * _RATIO**index for index in range(BINS)]
#: Below this both p99s are "fast": a difference there is noise, not evidence.
P99_FLOOR_MS = 5.0
#: Legacy canary requests needed before the target can be compared with it.
MIN_LEGACY_REQUESTS = 10

Counts = dict[str, int]

COMPARED, DIFFERING, SHADOW_ERRORS = "shadow.compared", "shadow.differing", "shadow.errors"


def bin_of(latency_ms: float) -> int:
    return min(BINS - 1, bisect.bisect_left(_UPPER, latency_ms))


def side_key(side: str, name: str) -> str:
    return f"canary.{side}.{name}"


@dataclass(frozen=True, slots=True)
class SideFigures:
    requests: int
    errors: int
    p99_ms: float | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


def side_figures(counts: Mapping[str, int], side: str) -> SideFigures:
    requests = counts.get(side_key(side, "requests"), 0)
    p99 = None
    if requests:
        wanted = requests * 0.99
        seen = 0
        for index in range(BINS):
            seen += counts.get(side_key(side, f"h{index}"), 0)
            if seen >= wanted:
                p99 = _UPPER[index]
                break
    return SideFigures(requests, counts.get(side_key(side, "errors"), 0), p99)


@dataclass(frozen=True, slots=True)
class Verdict:
    met: bool
    #: What is still missing (empty when met), and the evidence in one line.
    missing: str
    summary: str


def judge(gate: Gate, counts: Mapping[str, int]) -> Verdict:
    """Whether ``counts`` meet ``gate``, and what is missing if not."""
    missing: list[str] = []
    summary: list[str] = []
    if gate.shadow is not None:
        compared, differing = counts.get(COMPARED, 0), counts.get(DIFFERING, 0)
        rate = differing / compared if compared else 0.0
        summary.append(f"{compared} shadow comparisons, {differing} differing ({rate:.2%})")
        if compared < gate.shadow.min_compared:
            missing.append(f"{gate.shadow.min_compared - compared} more shadow comparisons")
        if compared and rate > gate.shadow.max_diff_rate:
            missing.append(f"diff rate {rate:.2%} above {gate.shadow.max_diff_rate:.2%}")
    if gate.canary is not None:
        target, legacy = side_figures(counts, "target"), side_figures(counts, "legacy")
        summary.append(
            f"canary target {target.requests} requests, {target.error_rate:.2%} errors, p99 "
            f"{_ms(target.p99_ms)}; legacy {legacy.requests} requests, {legacy.error_rate:.2%} errors, "
            f"p99 {_ms(legacy.p99_ms)}"
        )
        if target.requests < gate.canary.min_requests:
            missing.append(f"{gate.canary.min_requests - target.requests} more canary requests on the target")
        if legacy.requests < MIN_LEGACY_REQUESTS:
            missing.append(f"{MIN_LEGACY_REQUESTS - legacy.requests} more legacy requests to compare with")
        elif target.requests:
            allowed = legacy.error_rate + gate.canary.error_rate_margin
            if target.error_rate > allowed:
                missing.append(f"target error rate {target.error_rate:.2%} above {allowed:.2%}")
            if target.p99_ms is not None and legacy.p99_ms is not None:
                ceiling = max(legacy.p99_ms * (1 + gate.canary.p99_margin), P99_FLOOR_MS)
                if target.p99_ms > ceiling:
                    missing.append(f"target p99 {_ms(target.p99_ms)} above {_ms(ceiling)}")
    return Verdict(not missing, "; ".join(missing), "; ".join(summary))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"
