"""The ASGI entry point: builds the parts, wires them, and routes each request to one of them.

``/_gateway`` goes to the admin app (JSON API, cutover API and dashboard, mounted here), WebSockets
to :mod:`gateway.websocket`, everything else to the proxy. The parts never reach back for the app:
imports flow one way, from here down to plain data.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.admin import cutover_api, dashboard, diffview, history_api, report
from gateway.admin.access import PREFIX, check_admin_exposure
from gateway.admin.api import AdminParts, build_admin
from gateway.admin.readmodel import cutover_state
from gateway.compiler import CompiledTable, TableRef
from gateway.cutover import Cutover
from gateway.differences import Registry, load_registry
from gateway.errors import ConfigError
from gateway.forwarding import HeaderRewriter
from gateway.hooks import ExchangeHooks
from gateway.loader import load_table
from gateway.logs import buffered_logger, configure_logging, get_logger
from gateway.metrics import CutoverCollector, GateCollector, GatewayMetrics
from gateway.mirroring import Mirroring
from gateway.proxy import Proxy
from gateway.ratelimit import RateLimiter, RedisBuckets
from gateway.reload import Reloader
from gateway.rollout import system_clock
from gateway.settings import GatewaySettings
from gateway.spans import SpanExport
from gateway.target_check import check_targets, fetch_documents
from gateway.transport.pool import UpstreamPool
from gateway.types import Clock, Receive, Scope, Send
from gateway.websocket import proxy_websocket

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
        hooks: ExchangeHooks | None = None,
    ) -> None:
        self.settings = settings or GatewaySettings()
        self.clock = clock
        self.log: Any = get_logger("gateway").bind()
        self.access_log, self._access_buffer = buffered_logger()
        self.metrics = GatewayMetrics()
        self.tables = TableRef(table or load_table(self.settings.routing_file, clock=clock))
        self.metrics.routes.set(len(self.tables.table.routes))
        self.pool = UpstreamPool(native=self.settings.upstream_client == "native")
        #: Pins, breakers, the one decider, outcomes, shadow, history: everything per route that
        #: outlives a request.
        self.cutover = cutover = Cutover.from_settings(self.settings, clock=clock)
        cutover.mirror.registry = self._differences()
        self.limiter = build_limiter(self.settings, self.metrics)
        rewriter = HeaderRewriter(
            trusted_proxies=self.settings.trusted_proxies,
            request_id_name=self.settings.request_id_header.lower().encode("latin-1"),
        )
        self.spans = SpanExport.from_environment()
        self.proxy = Proxy(
            tables=self.tables,
            pool=self.pool,
            settings=self.settings,
            metrics=self.metrics,
            logger=self.log,
            access_logger=self.access_log,
            decider=cutover.decider,
            rewriter=rewriter,
            outcomes=cutover.outcomes,
            mirroring=Mirroring(cutover.mirror, rewriter),
            hooks=hooks,
            limiter=self.limiter,
            spans=self.spans,
        )
        self.reloader = Reloader(
            path=self.settings.routing_file,
            tables=self.tables,
            metrics=self.metrics,
            logger=self.log,
            clock=clock,
        )
        self.metrics.registry.register(
            CutoverCollector(cutover.outcomes, cutover.diffs, cutover.pins, cutover.breakers)
        )
        self.metrics.registry.register(GateCollector(cutover.gates))
        self.reloader.listeners.append(self._swapped)
        self.reloader.failure_listeners.append(cutover.on_reload_failed)
        self.admin = build_admin(AdminParts(self.settings, self.tables, self.reloader, self.metrics, cutover))
        require_admin = self.admin.state.require_admin
        self.admin.include_router(
            cutover_api.build_router(cutover, self.tables, self.cutover_state, require_admin)
        )
        self.admin.include_router(history_api.build_router(cutover.revisions, self.reloader, require_admin))
        self.admin.include_router(diffview.build_router(cutover, self.tables, require_admin))
        self.admin.include_router(
            report.build_router(cutover, self.tables, require_admin, self.settings.report_idle_days)
        )
        self.admin.include_router(dashboard.build_router(self.cutover_state, self.admin.state.admin_access))
        #: Extension points: coroutines run after start-up and before shutdown; more admin routes go
        #: through ``self.admin.include_router``.
        self.on_startup: list[Callable[[], Awaitable[None]]] = []
        self.on_shutdown: list[Callable[[], Awaitable[None]]] = []
        self._watcher: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        #: The last target check's findings (``gateway.target_check``), also logged as warnings.
        self.target_issues: list[str] = []
        self._drainer: asyncio.Task[None] | None = None

    def _differences(self) -> Registry:
        """The deliberate-differences registry; an invalid one is reported and left out, not fatal."""
        try:
            return load_registry(self.settings.differences_file)
        except ConfigError as exc:
            self.log.error("differences.invalid", errors=[str(issue) for issue in exc.issues])
            return Registry()

    def cutover_state(self) -> dict[str, Any]:
        """The dashboard's numbers (the JSON of ``/_gateway/api/cutover``)."""
        return cutover_state(self.cutover, self.tables.table, self.reloader.last, self.limiter.refused)

    def _swapped(self, old: CompiledTable, new: CompiledTable) -> None:
        last = self.reloader.last
        self.cutover.on_swap(old, new, source=last.trigger if last is not None else "reload")
        self._check_targets_later(new)

    def _check_targets_later(self, table: CompiledTable) -> None:
        """Warn, off the request path, about routes whose target's OpenAPI lacks what they send."""
        if any(upstream.openapi for upstream in table.upstreams.values()):
            task = asyncio.get_running_loop().create_task(self._check_targets(table))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _check_targets(self, table: CompiledTable) -> None:
        documents, issues = await asyncio.to_thread(fetch_documents, table)
        # The legacy endpoints are known once the coverage report loaded them; until then only the
        # routes' own paths are checked (``check --upstreams`` always reads them).
        issues += check_targets(table, documents, self.cutover.coverage.endpoints)
        self.target_issues = [str(issue) for issue in issues]
        for issue in issues:
            self.log.warning(
                "reload.target_missing", route=issue.route, line=issue.line, message=issue.message
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        path: str = scope["path"]
        if path.startswith(PREFIX) and (len(path) == _PREFIX_LEN or path[_PREFIX_LEN] == "/"):
            await self.admin(scope, receive, send)
            return
        if kind == "websocket":
            await proxy_websocket(self.proxy, scope, receive, send)
            return
        await self.proxy.http(scope, receive, send)

    async def startup(self) -> None:
        check_admin_exposure(self.settings)
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
        await self.cutover.start(self.tables.table)
        self._check_targets_later(self.tables.table)
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
        for task in list(self._background):
            task.cancel()
        for hook in [self.cutover.aclose, *self.on_shutdown]:
            try:
                await hook()
            except Exception:
                self.log.exception("gateway.shutdown_hook_failed")
        if self.spans is not None:
            await asyncio.to_thread(self.spans.shutdown)  # flushes the queued spans (blocking I/O)
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
