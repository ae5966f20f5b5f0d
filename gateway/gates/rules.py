"""Each route's gates, compiled once per table: which phase waits for which evidence.

A gate belongs to a phase that sends more traffic to the target than the phase before it (see
:mod:`gateway.gates.schema` for the defaults). ``check`` refuses a ``requires:`` that could never be
met (shadow evidence with no shadow phase before it, canary evidence with no canary phase before
it) and one on a phase that moves no traffic to the target.

The evidence of a route is kept under its *evidence fingerprint*: the route's matching (path,
methods) and its two sides (target, legacy). Moving a date, a percent, the guard or the shadow
options keeps the evidence; changing what is matched or who answers it starts it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.gates.schema import (
    NO_REQUIREMENTS,
    CanaryEvidence,
    Requirements,
    ShadowEvidence,
    default_for,
    merged,
)
from gateway.routing_schema import Phase
from gateway.types import PhaseLike


@dataclass(frozen=True, slots=True)
class Gate:
    """The evidence phase ``index`` of a route's rollout waits for."""

    index: int
    #: The phase as the calendar and the history name it ("canary 10%", "live").
    label: str
    start: float
    shadow: ShadowEvidence | None
    canary: CanaryEvidence | None
    #: True when no ``requires:`` was written (the defaults apply).
    defaulted: bool

    def describe(self) -> str:
        parts = []
        if self.shadow is not None:
            parts.append(
                f"{self.shadow.min_compared} shadow comparisons, diff rate <= {self.shadow.max_diff_rate:.2%}"
            )
        if self.canary is not None:
            parts.append(
                f"{self.canary.min_requests} canary requests on the target, error rate <= legacy's "
                f"+ {self.canary.error_rate_margin:.2%}, p99 <= legacy's + {self.canary.p99_margin:.0%}"
            )
        return "; ".join(parts)


def label_of(mode: str, percent: float | None) -> str:
    return f"canary {percent or 0:g}%" if mode == "canary" else mode


def _share(phase: PhaseLike | None) -> float:
    """The share of requests the target answers in a phase (shadow answers from legacy)."""
    if phase is None or phase.mode in ("legacy", "shadow"):
        return 0.0
    if phase.mode == "canary":
        return (phase.percent or 0.0) / 100
    return 1.0


def compile_gates(
    phases: Sequence[Phase], schedule: Sequence[PhaseLike], defaults: Requirements | None
) -> tuple[tuple[Gate, ...], list[tuple[int, str]]]:
    """The gates of one rollout, and its problems as (phase index, message)."""
    gates: list[Gate] = []
    issues: list[tuple[int, str]] = []
    calendar_only = defaults is NO_REQUIREMENTS  # `evidence: none`: only explicit `requires:` gate
    if calendar_only:
        defaults = None
    for index, (phase, spec) in enumerate(zip(phases, schedule, strict=True)):
        before = schedule[index - 1] if index else None
        earlier = {p.mode for p in schedule[:index]}
        more = _share(spec) > _share(before)
        requires = phase.requires
        if requires is NO_REQUIREMENTS:
            continue
        if requires is not None:
            if not more:
                issues.append(
                    (
                        index,
                        f"`requires` on a {label_of(spec.mode, spec.percent)} phase: only a phase that "
                        "sends more traffic to the target than the one before waits for evidence",
                    )
                )
                continue
            wanted = merged(requires, defaults)
            missing = [kind for kind in ("shadow", "canary") if getattr(wanted, kind) and kind not in earlier]
            for kind in missing:
                issues.append(
                    (
                        index,
                        f"requires {kind} evidence but no phase before it is {kind}: "
                        "it would be held until an operator releases it",
                    )
                )
            if missing:
                continue
            defaulted = False
        elif not calendar_only and more and before is not None and before.mode in ("shadow", "canary"):
            wanted = default_for(before.mode, defaults)
            defaulted = True
        else:
            continue
        gates.append(
            Gate(
                index,
                label_of(spec.mode, spec.percent),
                spec.start,
                wanted.shadow,
                wanted.canary,
                defaulted,
            )
        )
    return tuple(gates), issues


def evidence_fingerprint(path: str, methods: Sequence[str] | None, target: str, legacy: str) -> str:
    """What makes evidence about a route meaningful: what it matches and who answers it."""
    parts = (path, sorted(methods) if methods is not None else None, target, legacy)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]
