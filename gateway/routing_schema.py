"""The routing-table schema (what routing.yaml may say), as Pydantic models.

Only shape and local rules live here. Rules that need the whole table (unknown upstreams,
duplicate ids, ambiguous routes) are checked by ``gateway.loader`` so that they can name the
file, line and route. The models are frozen: a validated table is never edited in place.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from gateway.gates.schema import Requires
from gateway.ratelimit.policy import RateLimits, check_policies

Mode = Literal["legacy", "shadow", "canary", "live"]
MODES: tuple[Mode, ...] = ("legacy", "shadow", "canary", "live")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
KNOWN_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT"})

DEFAULT_CONNECT_TIMEOUT = 1.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_WRITE_TIMEOUT = 30.0
DEFAULT_POOL_TIMEOUT = 5.0
DEFAULT_MAX_CONNECTIONS = 512
#: Idle pooled connections are dropped after this long: below uvicorn's 5 s keep-alive, so the gateway
#: lets a connection go before the upstream does instead of racing its close.
DEFAULT_KEEPALIVE_SECONDS = 4.0

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_ROUTE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


def _parse_duration(value: Any) -> Any:
    """``60s``, ``5m``, ``250ms``, ``1h`` or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like 60s, 5m, 250ms")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        found = _DURATION.match(value)
        if found:
            return float(found.group(1)) * _DURATION_UNITS[found.group(2)]
    raise ValueError(f"invalid duration {value!r}: use a number of seconds or 60s, 5m, 250ms, 1h")


Duration = Annotated[float, BeforeValidator(_parse_duration), Field(gt=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Timeouts(_Model):
    connect: Duration = DEFAULT_CONNECT_TIMEOUT
    read: Duration = DEFAULT_READ_TIMEOUT
    write: Duration = DEFAULT_WRITE_TIMEOUT
    pool: Duration = DEFAULT_POOL_TIMEOUT


class PoolLimits(_Model):
    #: Size this above the expected concurrency: a request waiting for a pooled connection is latency.
    max_connections: int = Field(DEFAULT_MAX_CONNECTIONS, ge=1)
    keepalive: Duration = DEFAULT_KEEPALIVE_SECONDS


class Upstream(_Model):
    url: str
    timeout: Timeouts = Timeouts()
    pool: PoolLimits = PoolLimits()
    health: str | None = None
    #: Path of the upstream's OpenAPI document: ``check --upstreams`` and reloads verify against it that
    #: the upstream serves every path and method the routes targeting it will send.
    openapi: str | None = None
    #: ``preserve`` forwards the client's Host, ``upstream`` sends the upstream's host:port,
    #: anything else is sent literally.
    host: str = "preserve"

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream url must be http(s)://host[:port], got {value!r}")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(
                "upstream url must not carry a path, query or fragment (paths are forwarded as-is)"
            )
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as exc:
            raise ValueError(f"bad port in {value!r}") from exc
        return value.rstrip("/")

    @field_validator("health", "openapi")
    @classmethod
    def _check_health(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("must be a path starting with /")
        return value

    @field_validator("host")
    @classmethod
    def _check_host(cls, value: str) -> str:
        if not value or any(ch in value for ch in " \t\r\n/"):
            raise ValueError("host must be preserve, upstream, or a host[:port] literal")
        return value


def parse_phase_start(value: str | date | datetime) -> str | date | datetime:
    """Accept an ISO week (``2026-W50``), an ISO date or date-time; the instant is resolved at compile."""
    if isinstance(value, datetime | date):
        return value
    week = _ISO_WEEK.match(value)
    if week:
        year, number = int(week.group(1)), int(week.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid ISO week") from exc
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"from: {value!r} is neither an ISO week (2026-W50) nor an ISO date-time") from exc


class Phase(_Model):
    start: Annotated[str | datetime | date, Field(alias="from")]
    mode: Mode
    percent: float | None = Field(None, gt=0, le=100)
    #: Evidence this phase waits for (``gateway.gates.schema``); absent: the defaults; ``none``: the date.
    requires: Requires | None = None

    @field_validator("start", mode="before")
    @classmethod
    def _check_start(cls, value: Any) -> Any:
        if isinstance(value, str | date | datetime):
            return parse_phase_start(value)
        raise ValueError("from: must be an ISO week (2026-W50) or an ISO date-time")

    @model_validator(mode="after")
    def _percent_only_for_canary(self) -> Phase:
        if self.mode == "canary" and self.percent is None:
            raise ValueError("a canary phase needs percent (0 < percent <= 100)")
        if self.mode != "canary" and self.percent is not None:
            raise ValueError(f"percent is only meaningful for canary, not {self.mode}")
        return self


class GuardRule(_Model):
    """The `guard:` section of a rolled-out route: when to pin it back to legacy."""

    max_error_rate: float = Field(gt=0, le=1)
    min_requests: int = Field(50, ge=1)
    window: Duration = 60.0
    max_p99: Duration | None = None


class Shadow(_Model):
    #: JSON paths (``body.query_time``, ``headers.date``) left out of the diff.
    ignore: tuple[str, ...] = ()
    #: JSON paths of lists compared without regard to order.
    unordered: tuple[str, ...] = ()
    percent: float = Field(100.0, gt=0, le=100)
    learn_noise: bool = False
    #: Also compare what clients see: JSON body bytes (key order, escaping, number spelling, layout) and
    #: the headers clients read (``gateway.diff_bytes``). Default: on whenever legacy answers JSON.
    exact: bool | None = None


class Route(_Model):
    id: str
    path: str
    methods: tuple[str, ...] | None = None
    to: str | None = None
    target: str | None = None
    #: The legacy side of a rollout; the table's ``default`` when omitted.
    legacy: str | None = None
    rollout: tuple[Phase, ...] | None = None
    fallback: str | None = None
    guard: GuardRule | None = None
    shadow: Shadow | None = None
    #: Routes of one group must be answered by the same side at every instant (shared state the
    #: gateway cannot see, e.g. legacy's per-process settings cache); checked at load.
    group: str | None = None
    #: Per-route rate limits (``gateway.ratelimit.policy``): one policy or a list.
    rate_limit: RateLimits | None = None

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ROUTE_ID.match(value):
            raise ValueError(
                f"route id {value!r} must be letters, digits and _ . : - (starting alphanumeric)"
            )
        return value

    @field_validator("methods")
    @classmethod
    def _check_methods(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("methods must not be empty (leave it out to match every method)")
        upper = tuple(method.upper() for method in value)
        unknown = sorted(set(upper) - KNOWN_METHODS)
        if unknown:
            raise ValueError(f"unknown HTTP method(s): {', '.join(unknown)}")
        if len(set(upper)) != len(upper):
            raise ValueError("methods lists a method twice")
        return upper

    @field_validator("rate_limit")
    @classmethod
    def _check_rate_limit(cls, value: RateLimits | None) -> RateLimits | None:
        return None if value is None else check_policies(value)

    @model_validator(mode="after")
    def _check_destination(self) -> Route:
        if (self.to is None) == (self.target is None):
            raise ValueError("a route needs exactly one of `to` (plain cutover) or `target` (+ rollout)")
        if self.to is not None:
            for key in ("rollout", "legacy", "guard", "shadow"):
                if getattr(self, key) is not None:
                    raise ValueError(f"`{key}` needs `target` and a rollout; `to` routes are not rolled out")
        if self.target is not None and not self.rollout:
            raise ValueError("a `target` route needs a non-empty `rollout` (or use `to` for a plain cutover)")
        return self

    @property
    def uses_shadow(self) -> bool:
        return self.shadow is not None or any(phase.mode == "shadow" for phase in self.rollout or ())


class RoutingTable(_Model):
    version: Literal[1]
    timezone: str = "UTC"
    upstreams: dict[str, Upstream]
    default: str
    #: Table-wide evidence defaults for phases without ``requires:`` (``gateway.gates.schema``);
    #: ``none``: such phases flip on their date alone.
    evidence: Requires | None = None
    routes: tuple[Route, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("upstreams")
    @classmethod
    def _check_upstreams(cls, value: dict[str, Upstream]) -> dict[str, Upstream]:
        if not value:
            raise ValueError("at least one upstream is needed")
        for name in value:
            if not _ROUTE_ID.match(name):
                raise ValueError(f"upstream name {name!r} must be letters, digits and _ . : -")
        return value
