"""Who may use the admin API: a bearer token (compared in constant time), or loopback without one.

Without ``GATEWAY_ADMIN_TOKEN`` only loopback peers are answered. That trusts the TCP peer, which is
wrong behind a reverse proxy on the same host (every client arrives from loopback), so the gateway
refuses to start in that mode when trusted proxies are configured (:func:`check_admin_exposure`).
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import HTTPException, Request

from gateway.settings import GatewaySettings

PREFIX = "/_gateway"
#: The one admin path answered without the token (load balancers probe it).
PUBLIC_PATHS = frozenset({f"{PREFIX}/healthz"})


class AdminExposed(RuntimeError):
    """The settings would expose the admin API to every client; the gateway refuses to start."""


def check_admin_exposure(settings: GatewaySettings) -> None:
    """Refuse loopback-only admin access behind trusted proxies."""
    if settings.admin_token is None and settings.trusted_proxies:
        raise AdminExposed(
            "GATEWAY_TRUSTED_PROXIES is set but GATEWAY_ADMIN_TOKEN is not: behind a proxy every client "
            "looks like loopback, so the admin API needs a token"
        )


class AdminAccess:
    """The dependency every admin endpoint but health uses."""

    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token else None

    def __call__(self, request: Request) -> None:
        if self._token is None:
            host = request.client.host if request.client else ""
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                raise HTTPException(
                    403, "the admin API answers only loopback clients when no admin token is set"
                )
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self._token):
            raise HTTPException(401, "admin token required", headers={"WWW-Authenticate": "Bearer"})
