"""The gateway's one settings object (environment variables ``GATEWAY_*`` or a ``.env`` file)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_MAX_HEADER_BYTES = 64 * 1024
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore")

    routing_file: Path = Path("routing.yaml")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1)
    #: ``production`` refuses to start without a strong ``GATEWAY_ADMIN_TOKEN`` (docs/security.md).
    environment: Literal["development", "production"] = Field(
        "development", validation_alias=AliasChoices("FIGWAY_ENV", "GATEWAY_ENVIRONMENT")
    )
    #: Bearer token for every /_gateway path but /_gateway/healthz; without one they answer loopback only.
    admin_token: SecretStr | None = None
    #: Add X-Gateway-Route and X-Gateway-Upstream to responses. Unset: on in development, off in
    #: production, where they would tell every client which side answered.
    route_headers: bool | None = None
    #: The Server header of every answer, so that it never tells the sides apart. Unset: the value
    #: legacy's answers carry (learned from them; target answers carry none until one is seen).
    #: "": no Server header. Any other value: that value on every answer.
    server_header: str | None = None
    #: Total size of the request headers; larger requests get 431.
    max_header_bytes: int = Field(DEFAULT_MAX_HEADER_BYTES, ge=1024)
    #: Request body limit in bytes (None: unlimited); larger bodies get 413.
    max_body_bytes: int | None = Field(None, ge=0)
    #: Legacy's gunicorn limit_request_line (0: none). A longer request line is sent to legacy even on
    #: a migrated route, so it gets legacy's 414 whichever side the route is on.
    legacy_limit_request_line: int = Field(4094, ge=0)
    #: Legacy's gunicorn limit_request_field_size (0: none): a longer header line goes to legacy (431).
    legacy_limit_request_field_size: int = Field(8190, ge=0)
    #: Legacy's gunicorn limit_request_fields (0: none): more header lines go to legacy (431).
    legacy_limit_request_fields: int = Field(100, ge=0)
    #: Peers whose X-Forwarded-* headers are trusted and extended; others' are replaced. Needs
    #: GATEWAY_ADMIN_TOKEN: behind a proxy every client is loopback, so the gateway refuses to start.
    trusted_proxies: Annotated[tuple[Network, ...], NoDecode] = ()
    request_id_header: str = "X-Request-ID"
    access_log: bool = True
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    #: ``native``: the gateway's own pooled HTTP/1.1 client (fastest); ``aiohttp``: aiohttp's client.
    upstream_client: Literal["native", "aiohttp"] = "native"
    #: Reload the routing file when it changes on disk.
    watch: bool = True
    #: Shared state of several gateway processes or replicas (guard pins), e.g. ``redis://redis:6379/0``.
    #: Unset: pins live in this host's state directory. Read from ``GATEWAY_REDIS_URL`` or ``REDIS_URL``.
    redis_url: SecretStr | None = Field(None, validation_alias=AliasChoices("GATEWAY_REDIS_URL", "REDIS_URL"))
    #: Prefix of the keys the gateway keeps in Redis (pins, flip evidence): one per deployment.
    state_prefix: str = Field("figway", min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    #: Seconds between two exchanges of flip evidence with the shared store (counts out, totals in).
    evidence_interval: float = Field(0.5, gt=0)
    #: Seconds between the decision to open a gate and the flip: above ``evidence_interval`` (plus the
    #: store's latency), so that every replica has seen the opening and all flip at the same instant.
    evidence_settle: float = Field(2.0, ge=0)
    #: Prefix of the rate-limit keys in Redis (``<prefix>:rl:{route}:...``): replicas that share budgets
    #: share it.
    rate_limit_prefix: str = Field("figway", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    #: Seconds Redis gets per rate-limit check before this process counts alone (and warns).
    rate_limit_timeout: float = Field(0.25, gt=0, le=10)
    #: On SIGTERM, in-flight requests get this many seconds to finish before their connections close.
    shutdown_timeout: int = Field(30, ge=1)

    # -- cutover machinery (shadow, canary, fallback, breaker, guard) --
    #: Where guard pins are kept across restarts (``pins.json``); None keeps them in memory only.
    state_dir: Path | None = Path("var/gateway")
    #: Routing-table revisions kept (``python -m gateway history|revert``): in Redis when configured,
    #: else in ``<state_dir>/history``; the oldest are dropped beyond this many.
    history_keep: int = Field(200, ge=1, le=100_000)
    #: The registry of deliberate legacy/services differences: the shadow diff excuses what it allows.
    #: A missing file is an empty registry.
    differences_file: Path | None = Path("differences.yaml")
    #: Also append every shadow diff to this JSONL file.
    diff_log: Path | None = None
    #: Mirrored requests waiting for the target beyond this are dropped (and counted).
    shadow_queue: int = Field(1000, ge=1)
    shadow_workers: int = Field(4, ge=1)
    #: Seconds between two active health checks of an upstream with a ``health`` path.
    health_interval: float = Field(5.0, gt=0)
    #: Consecutive failures that open an upstream's circuit breaker, and seconds before a probe.
    breaker_failures: int = Field(5, ge=1)
    breaker_reset: float = Field(10.0, gt=0)
    #: Clients allowed to force a side with ``X-Figway-Target`` without the admin token.
    override_networks: Annotated[tuple[Network, ...], NoDecode] = ()
    #: The migration report calls a live endpoint's Flask code deletable after this many days without a
    #: legacy request (the last one is kept in the state directory across restarts).
    report_idle_days: int = Field(7, ge=1, le=3650)
    #: The legacy app factory whose url_map ``python -m gateway coverage|scaffold`` read (in a child process).
    legacy_app: str = "legacy_flask.app:create_app"

    @field_validator("trusted_proxies", "override_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, list | tuple):
            return tuple(ipaddress.ip_network(str(item), strict=False) for item in value)
        return value

    @model_validator(mode="after")
    def _route_headers_default(self) -> GatewaySettings:
        if self.route_headers is None:
            self.route_headers = self.environment != "production"
        return self

    @field_validator("server_header")
    @classmethod
    def _server_value(cls, value: str | None) -> str | None:
        if value is not None and (not value.isprintable() or not value.isascii()):
            raise ValueError("server_header must be printable ASCII")
        return value

    @model_validator(mode="after")
    def _production_admin_token(self) -> GatewaySettings:
        # The same rule as services/secret_policy.py (the programs never import each other).
        if self.environment == "production":
            token = self.admin_token.get_secret_value() if self.admin_token else ""
            lowered = token.lower()
            if not token:
                why = "is not set"
            elif any(
                m in lowered for m in ("change-me", "changeme", "change_me", "placeholder", "example", "xxxx")
            ):
                why = "is a placeholder"
            elif len(token) < 32 or len(set(token)) < 12:
                why = "is shorter than 32 random characters"
            else:
                return self
            raise ValueError(
                f"production mode (FIGWAY_ENV=production): GATEWAY_ADMIN_TOKEN {why}; "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return self

    @field_validator("request_id_header")
    @classmethod
    def _header_name(cls, value: str) -> str:
        if not value or not value.replace("-", "").isalnum():
            raise ValueError("request_id_header must be a header name")
        return value
