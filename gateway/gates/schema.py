"""What a phase needs before the gateway flips a route into it (``requires:`` in routing.yaml).

A phase that sends more traffic to the target than the one before it waits for evidence from that
earlier phase. Without ``requires:`` the defaults apply (the table's ``evidence:`` section, else the
constants below):

- after a **shadow** phase: at least ``min_compared`` shadow comparisons, at most ``max_diff_rate``
  of them differing (what the shadow diff reports as a real difference: ignored paths, learned
  noise and the registry of deliberate differences are already left out);
- after a **canary** phase: at least ``min_requests`` canary requests answered by the target, an
  error rate at most ``error_rate_margin`` above legacy's and a p99 at most ``p99_margin`` (a
  fraction) above legacy's, both sides measured over the same canary weeks;
- after **legacy** (a route's first phase, or writes that cannot be shadowed): nothing to wait for.

``requires: none`` flips by the date alone; ``evidence: none`` at the top of the table makes every phase
without a ``requires:`` of its own flip by its date alone (the calendar as it was before gates).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

DEFAULT_MIN_COMPARED = 200
DEFAULT_MAX_DIFF_RATE = 0.01
DEFAULT_MIN_CANARY_REQUESTS = 200
DEFAULT_ERROR_RATE_MARGIN = 0.01
DEFAULT_P99_MARGIN = 0.25


def _fraction(value: Any) -> Any:
    """``1%`` or ``0.01``."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a percentage") from exc
    return value


Fraction = Annotated[float, BeforeValidator(_fraction), Field(ge=0, le=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShadowEvidence(_Model):
    """Before leaving a shadow phase: enough comparisons, few enough real differences."""

    min_compared: int = Field(DEFAULT_MIN_COMPARED, ge=1)
    max_diff_rate: Fraction = DEFAULT_MAX_DIFF_RATE


class CanaryEvidence(_Model):
    """Before leaving a canary phase: enough target requests, no worse than legacy by a margin."""

    min_requests: int = Field(DEFAULT_MIN_CANARY_REQUESTS, ge=1)
    error_rate_margin: Fraction = DEFAULT_ERROR_RATE_MARGIN
    p99_margin: Annotated[float, BeforeValidator(_fraction), Field(ge=0)] = DEFAULT_P99_MARGIN


class Requirements(_Model):
    """``requires:`` of a phase, or the table's ``evidence:`` defaults."""

    shadow: ShadowEvidence | None = None
    canary: CanaryEvidence | None = None

    @model_validator(mode="after")
    def _names_something(self) -> Requirements:
        if self.shadow is None and self.canary is None and self is not NO_REQUIREMENTS:
            raise ValueError("name shadow and/or canary evidence (or write `requires: none`)")
        return self


#: ``requires: none``: the phase flips on its date alone.
NO_REQUIREMENTS = Requirements.model_construct(shadow=None, canary=None)


def _none_word(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() == "none":
        return NO_REQUIREMENTS
    if isinstance(value, str):
        raise ValueError("requires: a mapping naming shadow and/or canary evidence, or `none`")
    return value


Requires = Annotated[Requirements, BeforeValidator(_none_word)]


def merged(explicit: Requirements | None, defaults: Requirements | None) -> Requirements:
    """``explicit``'s named kinds, their unset fields taken from ``defaults`` (the table's)."""

    def one(kind: str) -> Any:
        given = getattr(explicit, kind) if explicit is not None else None
        base = getattr(defaults, kind) if defaults is not None else None
        if given is None:
            return None
        if base is None:
            return given
        return base.model_copy(update={k: getattr(given, k) for k in given.model_fields_set})

    return Requirements.model_construct(shadow=one("shadow"), canary=one("canary"))


def default_for(kind: str, defaults: Requirements | None) -> Requirements:
    """The built-in (or table-wide) requirement of one kind."""
    if kind == "shadow":
        shadow = defaults.shadow if defaults is not None and defaults.shadow else ShadowEvidence()
        return Requirements.model_construct(shadow=shadow, canary=None)
    canary = defaults.canary if defaults is not None and defaults.canary else CanaryEvidence()
    return Requirements.model_construct(shadow=None, canary=canary)
