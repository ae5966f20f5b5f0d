"""Per-app auth machinery, built once from `Settings` at app creation (fail fast on bad keys)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from services.auth.network import IpNetwork, parse_networks
from services.auth.ratelimit import DatabaseLoginLimiter, LoginLimiter
from services.auth.tokens import JwtCodec
from services.settings import Settings


@dataclass(frozen=True, slots=True)
class AuthState:
    codec: JwtCodec
    limiter: LoginLimiter
    trusted_proxies: tuple[IpNetwork, ...]


def build_auth_state(settings: Settings) -> AuthState:
    limiter: LoginLimiter = DatabaseLoginLimiter(
        attempts=settings.login_rate_limit_attempts,
        window_seconds=settings.login_rate_limit_window_seconds,
    )
    if settings.redis_url is not None:
        from services.auth.ratelimit_redis import RedisLoginLimiter

        limiter = RedisLoginLimiter(
            settings.redis_url.get_secret_value(),
            attempts=settings.login_rate_limit_attempts,
            window_seconds=settings.login_rate_limit_window_seconds,
            fallback=limiter,
        )
    return AuthState(
        codec=JwtCodec(settings),
        limiter=limiter,
        trusted_proxies=parse_networks(settings.trusted_proxies),
    )


def auth_state(request: HTTPConnection) -> AuthState:
    state: AuthState = request.app.state.auth
    return state
