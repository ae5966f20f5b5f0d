"""The ASGI entry point: ``/_gateway`` goes to the admin app, everything else to the proxy."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.admin import PREFIX, build_admin
from gateway.compiler import CompiledTable
from gateway.cutover import Cutover
from gateway.differences import Registry, load_registry
from gateway.errors import ConfigError
from gateway.hooks import ExchangeHooks
from gateway.loader import load_table
from gateway.logs import buffered_logger, configure_logging, get_logger
from gateway.metrics import GatewayMetrics
from gateway.proxy import Proxy, TableRef
from gateway.ratelimit import RateLimiter, RedisBuckets
from gateway.reload import Reloader
from gateway.rollout import Decider, system_clock
from gateway.settings import GatewaySettings
from gateway.types import Clock, Receive, Scope, Send
from gateway.upstreams import UpstreamPool

_PREFIX_LEN = len(PREFIX)
#: How often buffered access-log lines are written out (seconds).
ACCESS_LOG_INTERVAL = 0.2


class Gateway:
    """The whole gateway as one ASGI app. Loading the table happens here, once, and fails fast."""

    def __init__(
        self,
        settings: GatewaySettings | None = None,
        *,
        table: CompiledTable | None = None,
        clock: Clock = system_clock,
        decider: Decider | None = None,
        hooks: ExchangeHooks | None = None,
    ) -> None:
        self.settings = settings or GatewaySettings()
        self.clock = clock
        self.log: Any = get_logger("gateway").bind()
        self.access_log, self._access_buffer = buffered_logger()
        self.metrics = GatewayMetrics()
        self.tables = TableRef(table or load_table(self.settings.routing_file, clock=clock))
        self.metrics.routes.set(len(self.tables.table.routes))
        self.pool = UpstreamPool()
        #: Rollout decisions, shadow, fallback, breaker, guard: consulted by the proxy per request.
        self.cutover = Cutover.from_settings(self.settings, clock=clock)
        self.cutover.mirror.registry = self._differences()
        self.limiter = build_limiter(self.settings, self.metrics)
        self.proxy = Proxy(
            tables=self.tables,
            pool=self.pool,
            settings=self.settings,
            metrics=self.metrics,
            logger=self.log,
            access_logger=self.access_log,
            decider=decider or self.cutover,
            hooks=hooks or self.cutover,
            limiter=self.limiter,
        )
        self.reloader = Reloader(
            path=self.settings.routing_file,
            tables=self.tables,
            metrics=self.metrics,
            logger=self.log,
            clock=clock,
        )
        self.admin = build_admin(self)
        #: Extension points: coroutines run after start-up and before shutdown (the cutover machinery
        #: starts its health checks here); more admin routes go through ``self.admin.include_router``.
        self.on_startup: list[Callable[[], Awaitable[None]]] = []
        self.on_shutdown: list[Callable[[], Awaitable[None]]] = []
        self.cutover.attach(self)
        self._watcher: asyncio.Task[None] | None = None
        self._drainer: asyncio.Task[None] | None = None

    def _differences(self) -> Registry:
        """The deliberate-differences registry; an invalid one is reported and left out, not fatal."""
        try:
            return load_registry(self.settings.differences_file)
        except ConfigError as exc:
            self.log.error("differences.invalid", errors=[str(issue) for issue in exc.issues])
            return Registry()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        path: str = scope["path"]
        if path.startswith(PREFIX) and (len(path) == _PREFIX_LEN or path[_PREFIX_LEN] == "/"):
            await self.admin(scope, receive, send)
            return
        await self.proxy(scope, receive, send)

    async def startup(self) -> None:
        table = self.tables.table
        self.log.info(
            "gateway.started",
            file=table.source,
            sha256=table.sha256,
            routes=len(table.routes),
            default=table.default,
        )
        if self.settings.admin_token is None:
            self.log.warning(
                "admin.no_token",
                message="GATEWAY_ADMIN_TOKEN is not set: the admin API answers loopback clients only",
            )
        self.reloader.install_sighup()
        self._drainer = asyncio.get_running_loop().create_task(self._drain_access_log())
        if self.settings.watch:
            self._watcher = asyncio.get_running_loop().create_task(self._watch())
        for hook in self.on_startup:
            await hook()

    async def _watch(self) -> None:
        try:
            await self.reloader.watch()
        except Exception:  # a broken watcher must not take the gateway down; SIGHUP and the API still work
            self.log.exception("reload.watch_failed")

    async def _drain_access_log(self) -> None:
        while True:
            await asyncio.sleep(ACCESS_LOG_INTERVAL)
            self._access_buffer.drain()

    async def shutdown(self) -> None:
        for hook in self.on_shutdown:
            try:
                await hook()
            except Exception:
                self.log.exception("gateway.shutdown_hook_failed")
        if self._drainer is not None:
            self._drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drainer
        self._access_buffer.drain()
        self.reloader.stop()
        self.reloader.remove_sighup()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self.pool.close()
        await self.limiter.aclose()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def build_limiter(settings: GatewaySettings, metrics: GatewayMetrics) -> RateLimiter:
    """Rate limits shared through Redis when a URL is set, else counted by this process alone."""
    store = None
    if settings.redis_url is not None:
        store = RedisBuckets(
            settings.redis_url.get_secret_value(),
            prefix=settings.rate_limit_prefix,
            timeout=settings.rate_limit_timeout,
        )
    return RateLimiter(store=store, trusted=settings.trusted_proxies, registry=metrics.registry)


def create_app() -> Gateway:
    """Factory for ``uvicorn --factory`` and worker processes: settings from the environment."""
    settings = GatewaySettings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    return Gateway(settings)
