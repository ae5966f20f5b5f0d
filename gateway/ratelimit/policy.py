"""What routing.yaml may say about rate limits (``rate_limit:`` on a route), and its compiled form.

A route takes one policy or a list of them; a request is refused when any of them is exhausted::

    rate_limit: {limit: 10, window: 1m, key: address}
    rate_limit:
      - {name: login-burst, limit: 5, window: 10s, key: address}
      - {name: login-hour, limit: 50, window: 1h, key: address}

``limit`` requests per ``window``, enforced by GCRA (the generic cell rate algorithm: a token bucket
kept as one timestamp), so up to ``burst`` (default ``limit``) may arrive at once and then one every
``window / limit``. ``key`` says whose budget a request spends: ``address`` (the client address,
read through the gateway's trusted proxies), ``user`` (the session user or JWT subject, read
unverified like the canary's sticky identity), ``api_key`` (``X-API-Key``), or ``header:<Name>``.
A request without the named credential spends its address's budget, never nobody's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_HEADER = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an RFC 9110 token
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
KEY_KINDS = ("address", "user", "api_key")
#: At most this many policies per route: each one is a store round trip per request.
MAX_POLICIES = 4
#: The longest window: a key's state lives in the store for one window after its last request.
MAX_WINDOW = 86400.0


def _window(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("window is a number of seconds or a string like 10s, 1m, 1h, 1d")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        found = _DURATION.match(value)
        if found:
            return float(found.group(1)) * _UNITS[found.group(2)]
    raise ValueError(f"invalid window {value!r}: use seconds or a string like 10s, 1m, 1h, 1d")


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class RateLimit(BaseModel):
    """One ``rate_limit`` policy as written in routing.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(ge=1, le=1_000_000, strict=True)
    window: Annotated[float, BeforeValidator(_window), Field(ge=0.001, le=MAX_WINDOW)]
    key: str = "address"
    burst: int | None = Field(None, ge=1, le=1_000_000, strict=True)
    #: The policy's name in the ``RateLimit`` headers and metrics; the route id when omitted.
    name: str | None = None

    @field_validator("key")
    @classmethod
    def _check_key(cls, value: str) -> str:
        if value in KEY_KINDS:
            return value
        kind, sep, header = value.partition(":")
        if kind == "header" and sep and _HEADER.match(header.strip()):
            return f"header:{header.strip().lower()}"
        raise ValueError(f"key must be address, user, api_key or header:<Name>, got {value!r}")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError(f"name {value!r} must be letters, digits and _ . : - (at most 64)")
        return value

    @model_validator(mode="after")
    def _check_rate(self) -> RateLimit:
        if self.window / self.limit < 0.000_001:
            raise ValueError("limit / window is above one request per microsecond")
        return self


RateLimits = Annotated[tuple[RateLimit, ...], BeforeValidator(_as_list)]


def check_policies(policies: tuple[RateLimit, ...]) -> tuple[RateLimit, ...]:
    """The list rules a single policy cannot check (called by the route's validator)."""
    if not policies:
        raise ValueError("rate_limit must not be an empty list (leave it out for no limit)")
    if len(policies) > MAX_POLICIES:
        raise ValueError(f"at most {MAX_POLICIES} rate_limit policies per route")
    names = [policy.name for policy in policies]
    if len(policies) > 1 and None in names:
        raise ValueError("several rate_limit policies on one route each need a `name`")
    if len(set(names)) != len(names):
        raise ValueError("rate_limit policy names must be unique on a route")
    return policies


@dataclass(frozen=True, slots=True)
class Quota:
    """A compiled policy: GCRA's emission interval and tolerance, and what the headers say."""

    route: str
    name: str
    key: str
    limit: int
    window: float
    burst: int
    #: Seconds between two requests at the sustained rate (GCRA's T).
    interval: float
    #: How far ahead of now the theoretical arrival time may run (T x burst, GCRA's tau).
    tolerance: float

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "limit": self.limit,
            "window_seconds": self.window,
            "burst": self.burst,
            "key": self.key,
        }


def compile_quotas(route_id: str, policies: tuple[RateLimit, ...] | None) -> tuple[Quota, ...]:
    quotas: list[Quota] = []
    for policy in policies or ():
        burst = policy.burst if policy.burst is not None else policy.limit
        interval = policy.window / policy.limit
        quotas.append(
            Quota(
                route=route_id,
                name=policy.name or route_id,
                key=policy.key,
                limit=policy.limit,
                window=policy.window,
                burst=burst,
                interval=interval,
                tolerance=interval * burst,
            )
        )
    return tuple(quotas)
