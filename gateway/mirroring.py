"""Shadow: after legacy answered a mirrored request, hand a copy to the target for a diff.

The mirrored request's headers come from the same builder as every forwarded request's
(:class:`gateway.forwarding.HeaderRewriter`, ``mirror=True``): the real peer in ``X-Forwarded-*``,
the gateway's request id, the mirror mark. Queueing never waits (:mod:`gateway.shadow`).
"""

from __future__ import annotations

from gateway.compiler import CompiledRoute, CompiledTable
from gateway.decide import Decision
from gateway.diff import DiffConfig, Sample
from gateway.exchange import Exchange
from gateway.forwarding import HeaderRewriter
from gateway.shadow import ShadowJob, ShadowMirror
from gateway.tracing import TraceContext
from gateway.types import Scope


def diff_config(route: CompiledRoute) -> DiffConfig:
    shadow = route.shadow
    if shadow is None:
        return DiffConfig()
    return DiffConfig.build(ignore=shadow.ignore, unordered=shadow.unordered, exact=shadow.exact)


class Mirroring:
    def __init__(self, mirror: ShadowMirror, rewriter: HeaderRewriter) -> None:
        self.mirror = mirror
        self._rewriter = rewriter
        self._configs: dict[tuple[str, object], DiffConfig] = {}
        self._table: CompiledTable | None = None
        self._by_id: dict[str, CompiledRoute] = {}

    def _config(self, route: CompiledRoute) -> DiffConfig:
        key = (route.id, route.shadow)  # a reload that edits `shadow:` gets a new config
        config = self._configs.get(key)
        if config is None:
            if len(self._configs) > 1024:
                self._configs.clear()
            config = self._configs[key] = diff_config(route)
        return config

    def job(
        self,
        table: CompiledTable,
        decision: Decision,
        scope: Scope,
        forward_path: bytes,
        request_id: str,
        legacy: Sample,
        trace: TraceContext | None = None,
    ) -> ShadowJob | None:
        if self._table is not table:  # a reload: index the new table's routes once
            self._table, self._by_id = table, {r.id: r for r in table.routes}
        route = self._by_id.get(decision.route_id)
        if route is None or decision.alternate is None:
            return None
        query: bytes = scope.get("query_string", b"")
        suffix = forward_path.decode("latin-1") + (("?" + query.decode("latin-1")) if query else "")
        learn = route.shadow is not None and route.shadow.learn_noise
        target = table.upstreams[decision.alternate]
        head = self._rewriter.build(scope, target, request_id, mirror=True, trace=trace)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in head.headers]
        return ShadowJob(
            route_id=route.id,
            method=scope["method"],
            target_url=target.url + suffix,
            headers=headers,
            legacy=legacy,
            config=self._config(route),
            legacy_url=table.upstreams[decision.upstream].url + suffix if learn else None,
            request_id=request_id,
            path=suffix,
        )

    def submit(self, table: CompiledTable, decision: Decision, exchange: Exchange, body: bytes) -> None:
        """Queue the mirror of an answered exchange (legacy's answer: its status, headers, body)."""
        named = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in exchange.response_headers}
        legacy = Sample(exchange.status, named.get("content-type", ""), body, named)
        scope, path, rid = exchange.scope, exchange.forward_path, exchange.request_id
        job = self.job(table, decision, scope, path, rid, legacy, exchange.trace)
        if job is not None:
            self.mirror.submit(job)
