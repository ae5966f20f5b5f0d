"""Configuration of the services program: one `Settings`, read once from env / `.env`.

Every other module receives a `Settings` instance (through `create_app(settings)` or
`request.app.state.settings`); nothing else reads `os.environ`.

`DATABASE_URL` is shared with the legacy app, so it accepts the sync driver names legacy uses
(`sqlite://`, `sqlite+pysqlite://`, `mysql+pymysql://`) and converts them to their async twins.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from services.secret_policy import GENERATE_HINT, weakness

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{ROOT / 'var' / 'figway.db'}"
# The legacy app's development key (legacy_flask/config.py); production sets MVIDARR_SECRET_KEY.
DEFAULT_SECRET_KEY = "mvidarr-dev-secret-key-change-me"  # noqa: S105 - dev default, as legacy
# python-jose's signing algorithms; EdDSA is not among them (jose has no Ed25519 support).
JWT_ALGORITHMS = frozenset({"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"})
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001

# A sync or driverless MySQL URL (the form legacy shares) gets asyncmy, the faster driver
# (bench/results/db.md); naming aiomysql or asyncmy explicitly keeps that driver.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "mysql": "mysql+asyncmy",
    "mysql+pymysql": "mysql+asyncmy",
    "mysql+aiomysql": "mysql+aiomysql",
    "mysql+asyncmy": "mysql+asyncmy",
    "mariadb": "mysql+asyncmy",
    "mariadb+pymysql": "mysql+asyncmy",
    "mariadb+aiomysql": "mysql+aiomysql",
    "mariadb+asyncmy": "mysql+asyncmy",
}
_SYNC_DRIVERS = {
    "sqlite+aiosqlite": "sqlite+pysqlite",
    "mysql+aiomysql": "mysql+pymysql",
    "mysql+asyncmy": "mysql+pymysql",
}


def to_async_url(url: str) -> str:
    """The async-driver form of a database URL; relative SQLite paths are taken from the repo root."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(f"unsupported database driver {parsed.drivername!r}: use sqlite or mysql")
    if driver.startswith("sqlite"):
        # Rendered by hand: SQLAlchemy would percent-escape ":" in ":memory:" or a path.
        database = parsed.database or ""
        if database and database != ":memory:" and not Path(database).is_absolute():
            database = str(ROOT / database)
        query = urlencode(sorted(parsed.query.items()), doseq=True)
        return f"{driver}:///{database}" + (f"?{query}" if query else "")
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def to_sync_url(url: str) -> str:
    """The sync-driver form (pysqlite / pymysql) of an async URL, for Alembic."""
    parsed = make_url(to_async_url(url))
    return parsed.set(drivername=_SYNC_DRIVERS[parsed.drivername]).render_as_string(hide_password=False)


class Settings(BaseSettings):
    """Every setting of the services program. Field names are the env var names (case-insensitive)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    # "production" refuses to start with a default, placeholder or short secret (docs/security.md).
    environment: Literal["development", "production"] = Field(
        default="development", validation_alias=AliasChoices("FIGWAY_ENV", "ENVIRONMENT")
    )
    database_url: str = DEFAULT_DATABASE_URL
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=20, ge=0)
    db_pool_recycle: int = Field(default=3600, ge=1)  # seconds before a MariaDB connection is replaced
    db_pool_timeout: float = Field(default=30.0, gt=0)
    # A pooled MariaDB connection idle longer than this is pinged before use (busy ones are not).
    db_ping_after_idle: float = Field(default=5.0, ge=0)
    db_echo: bool = False
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    # How long the services trust a cached setting (the login guard reads one per request).
    settings_cache_ttl: float = Field(default=2.0, ge=0)
    # Requests admitted into the app at once (FIFO queue for the rest); 0 turns the limit off.
    max_in_flight: int = Field(default=16, ge=0)

    # The legacy Flask secret: signs the `mvidarr_session` cookie both programs accept.
    secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SECRET_KEY),
        validation_alias=AliasChoices("MVIDARR_SECRET_KEY", "SECRET_KEY"),
    )
    session_cookie_name: str = "mvidarr_session"
    session_lifetime_seconds: int = Field(default=24 * 3600, ge=1)
    # Mark `mvidarr_session` Secure (set it when clients reach the gateway over HTTPS only).
    session_cookie_secure: bool = False
    # How long a token's link to its `user_sessions` row is trusted before it is read again: a
    # logout on either app ends the tokens within this many seconds.
    session_check_ttl_seconds: float = Field(default=2.0, ge=0, le=5)

    # Auth (services/auth): JWT access tokens, refresh cookie, API keys, login rate limit, CORS.
    # HS* use `jwt_secret` (unset: a key derived from the session secret, never the secret itself;
    # production requires its own); RS*/ES* take PEM keys.
    jwt_algorithm: str = "HS256"
    jwt_secret: SecretStr | None = None
    jwt_private_key: SecretStr | None = None
    jwt_public_key: str | None = None
    jwt_issuer: str = "figway-services"
    jwt_audience: str = "figway"
    jwt_leeway_seconds: int = Field(default=10, ge=0, le=300)
    access_token_ttl_seconds: int = Field(default=900, ge=30)
    refresh_token_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=60)
    refresh_cookie_name: str = "figway_refresh"
    # Refresh and logout both need the refresh cookie; nothing outside /auth ever sees it.
    refresh_cookie_path: str = "/auth"
    refresh_cookie_secure: bool = True
    refresh_cookie_samesite: Literal["strict", "lax", "none"] = "strict"
    # `/auth/token` also opens a legacy session (user_sessions row + mvidarr_session cookie).
    token_login_opens_legacy_session: bool = True
    # `/auth/token`: failed logins per account and per address before each further attempt waits
    # (`login_delay_base_seconds`, doubling, at most `login_max_delay_seconds`) since the previous
    # one; failures older than the window are forgotten. The account itself is never locked here.
    login_rate_limit_attempts: int = Field(default=10, ge=1)
    login_rate_limit_window_seconds: int = Field(default=900, ge=1)
    login_max_delay_seconds: int = Field(default=300, ge=1)
    login_delay_base_seconds: float = Field(default=1.0, gt=0)
    # Shared state of several workers/replicas in Redis (login rate limit); unset: the database.
    redis_url: SecretStr | None = None
    trusted_proxies: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    cors_origins: tuple[str, ...] = ()
    cors_allow_credentials: bool = True

    host: str = Field(default=DEFAULT_HOST, validation_alias=AliasChoices("SERVICES_HOST"))
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535, validation_alias=AliasChoices("SERVICES_PORT"))
    workers: int = Field(default=1, ge=1, validation_alias=AliasChoices("SERVICES_WORKERS"))
    # SIGTERM: in-flight requests get this many seconds to finish before connections are closed.
    shutdown_timeout: int = Field(
        default=30, ge=1, validation_alias=AliasChoices("SERVICES_SHUTDOWN_TIMEOUT")
    )
    log_level: str = Field(default="info", validation_alias=AliasChoices("SERVICES_LOG_LEVEL", "LOG_LEVEL"))
    # "json", "console", or "auto" (console when stderr is a terminal).
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", validation_alias=AliasChoices("SERVICES_LOG_FORMAT", "LOG_FORMAT")
    )

    # External metadata providers (issue 6). Same env names as the legacy app; a non-empty key
    # in the `settings` table wins over these, as legacy reads it.
    spotify_api_url: str = "https://api.spotify.com/v1"
    spotify_accounts_url: str = "https://accounts.spotify.com"
    musicbrainz_api_url: str = "https://musicbrainz.org/ws/2"
    lastfm_api_url: str = "https://ws.audioscrobbler.com/2.0/"
    imvdb_api_url: str = "https://imvdb.com/api/v1"
    spotify_client_id: str = ""
    spotify_client_secret: SecretStr = SecretStr("")
    lastfm_api_key: SecretStr = SecretStr("")
    imvdb_api_key: SecretStr = SecretStr("")
    musicbrainz_min_interval: float = Field(default=1.0, ge=0)  # MusicBrainz: 1 request/s
    imvdb_min_interval: float = Field(default=1.0, ge=0)  # as MVidarr spaces IMVDb calls
    lastfm_min_interval: float = Field(default=0.2, ge=0)  # Last.fm terms: at most 5 requests/s
    provider_timeout: float = Field(default=10.0, gt=0)
    provider_connect_timeout: float = Field(default=5.0, gt=0)
    provider_max_connections: int = Field(default=200, ge=1)
    provider_max_keepalive: int = Field(default=50, ge=1)
    provider_max_attempts: int = Field(default=3, ge=1)
    provider_max_retry_after: float = Field(default=10.0, ge=0)
    provider_breaker_threshold: int = Field(default=5, ge=1)
    provider_breaker_reset: float = Field(default=30.0, gt=0)
    enrichment_bulk_concurrency: int = Field(default=8, ge=1)
    # How provider requests are sent: straight on aiohttp (services/providers/_direct.py) or by
    # httpx's own client and transport (what respx intercepts in unit tests).
    provider_transport: Literal["aiohttp", "httpx"] = "aiohttp"

    # System commands (issue 8): executables the wrapper may start, and its limits.
    system_command_allowlist: tuple[str, ...] = (
        "df",
        "free",
        "uptime",
        "ps",
        "systemctl",
        "git",
        "true",
        "sudo",
        "scripts/manage_service.sh",
    )
    system_command_timeout: float = Field(default=10.0, gt=0)
    system_command_max_output: int = Field(default=64 * 1024, ge=1)
    system_command_concurrency: int = Field(default=8, ge=1)
    # Extra exact restart argv lists (JSON), as legacy's MVIDARR_RESTART_ALLOWLIST.
    restart_allowlist: tuple[tuple[str, ...], ...] = Field(
        default=(), validation_alias=AliasChoices("MVIDARR_RESTART_ALLOWLIST", "RESTART_ALLOWLIST")
    )
    restart_delay: float = Field(default=1.0, ge=0)
    service_unit: str = "mvidarr"  # the systemd unit health/admin ask about
    version_file: str = "legacy_flask/version.json"  # the deployment's version record (data, not code)
    log_file: str = Field(
        default="var/legacy.log", validation_alias=AliasChoices("MVIDARR_LOG_FILE", "LOG_FILE")
    )

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return to_async_url(value)

    @field_validator("jwt_algorithm")
    @classmethod
    def _known_algorithm(cls, value: str) -> str:
        if value not in JWT_ALGORITHMS:
            raise ValueError(f"jwt_algorithm must be one of {sorted(JWT_ALGORITHMS)}")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            ipaddress.ip_network(network.strip(), strict=False)  # ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _auth_consistency(self) -> Settings:
        if not self.jwt_algorithm.startswith("HS") and (
            self.jwt_private_key is None or self.jwt_public_key is None
        ):
            raise ValueError(f"jwt_algorithm {self.jwt_algorithm} needs jwt_private_key and jwt_public_key")
        # A wildcard origin with credentials would hand our cookies to any site.
        if self.cors_allow_credentials and "*" in self.cors_origins:
            raise ValueError("cors_origins may not contain '*' while cors_allow_credentials is on")
        if self.environment == "production":
            self._production_secrets()
        return self

    def _production_secrets(self) -> None:
        problems = []
        why = weakness(self.secret_key.get_secret_value(), known_defaults=(DEFAULT_SECRET_KEY,))
        if why:
            problems.append(f"MVIDARR_SECRET_KEY {why}")
        if self.jwt_algorithm.startswith("HS"):
            jwt_secret = self.jwt_secret.get_secret_value() if self.jwt_secret else None
            why = weakness(jwt_secret, known_defaults=(DEFAULT_SECRET_KEY,))
            if why:
                problems.append(f"JWT_SECRET {why}")
            elif jwt_secret == self.secret_key.get_secret_value():
                problems.append("JWT_SECRET equals MVIDARR_SECRET_KEY (the JWT key must be its own)")
        if problems:
            raise ValueError(
                f"production mode (FIGWAY_ENV=production): {'; '.join(problems)}; {GENERATE_HINT}"
            )

    @property
    def jwt_hmac_key(self) -> str:
        """The HS* signing key: JWT_SECRET, else one derived from the cookie key (never equal to it)."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        derived = hmac.new(
            self.secret_key.get_secret_value().encode(), b"figway jwt signing key", hashlib.sha256
        )
        return derived.hexdigest()

    @property
    def sync_database_url(self) -> str:
        return to_sync_url(self.database_url)

    @property
    def mysql_driver(self) -> str:
        """The async MySQL driver of `database_url` ("asyncmy" or "aiomysql")."""
        return make_url(self.database_url).drivername.partition("+")[2] or "asyncmy"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
