"""Per-app auth machinery, built once from `Settings` at app creation (fail fast on bad keys)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from services.auth.network import IpNetwork, parse_networks
from services.auth.ratelimit import DatabaseLoginLimiter, DelayPolicy, LoginLimiter
from services.auth.session_links import SessionLinks
from services.auth.tokens import JwtCodec
from services.settings import Settings


@dataclass(frozen=True, slots=True)
class AuthState:
    codec: JwtCodec
    limiter: LoginLimiter
    database_limiter: DatabaseLoginLimiter
    trusted_proxies: tuple[IpNetwork, ...]
    session_links: SessionLinks

    def bind(self, factory: async_sessionmaker[AsyncSession]) -> None:
        """Called when the app starts: the limiter's own transactions need the engine."""
        self.database_limiter.bind(factory)


def build_auth_state(settings: Settings) -> AuthState:
    policy = DelayPolicy(
        attempts=settings.login_rate_limit_attempts,
        max_delay=settings.login_max_delay_seconds,
        base=settings.login_delay_base_seconds,
    )
    database = DatabaseLoginLimiter(policy=policy, window_seconds=settings.login_rate_limit_window_seconds)
    limiter: LoginLimiter = database
    if settings.redis_url is not None:
        from services.auth.ratelimit_redis import RedisLoginLimiter

        limiter = RedisLoginLimiter(
            settings.redis_url.get_secret_value(),
            policy=policy,
            window_seconds=settings.login_rate_limit_window_seconds,
            fallback=database,
        )
    return AuthState(
        codec=JwtCodec(settings),
        limiter=limiter,
        database_limiter=database,
        trusted_proxies=parse_networks(settings.trusted_proxies),
        session_links=SessionLinks(settings.session_check_ttl_seconds),
    )


def auth_state(request: HTTPConnection) -> AuthState:
    state: AuthState = request.app.state.auth
    return state
