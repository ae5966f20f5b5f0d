"""figway's gateway: a strangler-fig reverse proxy driven by routing.yaml.

The public surface (everything else is an implementation detail):

- ``Gateway`` (``gateway.app``): the ASGI app; ``create_app()`` builds one from the environment.
- ``GatewaySettings`` (``gateway.settings``): every ``GATEWAY_*`` setting.
- ``load_table`` / ``parse_table`` (``gateway.loader``) → ``CompiledTable`` (``gateway.compiler``).
- ``Decider`` / ``Decision`` (``gateway.decide``): the one decision step, asked by serving, explain,
  the admin API and the dashboard; ``PhaseSpec`` (``gateway.rollout``); ``Clock`` (``gateway.types``)
  is injected wherever "now" matters.
- ``ExchangeHooks`` / ``Answer`` (``gateway.hooks``): observers of every exchange (outcome, body copy).
- ``ConfigError`` / ``UpstreamError`` and friends (``gateway.errors``).

The house, from the app down to plain data (imports flow one way; no circles):

- A request's walk (``proxy``): match and decide (``decide``) → forward (``forwarding`` rewrites the
  headers, ``transport/`` sends, ``relay`` streams the answer; ``exchange`` is the request's
  bookkeeping) or fall back (``fallback``) → record (``record``, ``metrics``, access log) and shadow
  (``mirroring`` → ``shadow`` → ``diff``). WebSockets: ``websocket``.
- The table: ``routing_schema`` (routing.yaml's models) → ``loader`` → ``compiler`` (``matcher``,
  ``paths``, ``rollout``, ``groups``); ``reload`` swaps it; ``explain`` and ``plan`` read it.
- What outlives a request (``cutover``): ``pins/`` (local and Redis), ``breaker``, ``guard``
  (the tripwire), ``health``, ``history``, ``coverage`` (``inventory``); every table loaded is a
  numbered revision (``revision_log`` → ``revisions``, ``revisions_redis``), which ``revert`` writes
  back (``history_cli``, ``admin/history_api``).
- The admin surface (``admin/``): ``access``, ``api``, ``cutover_api``, ``readmodel``,
  ``dashboard``; mounted by ``app``, which builds and wires everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "Answer",
    "CompiledTable",
    "ConfigError",
    "Decider",
    "Decision",
    "ExchangeHooks",
    "Gateway",
    "GatewaySettings",
    "PhaseSpec",
    "UpstreamError",
    "create_app",
    "load_table",
    "parse_table",
]

_WHERE = {
    "Answer": "gateway.hooks",
    "CompiledTable": "gateway.compiler",
    "ConfigError": "gateway.errors",
    "Decider": "gateway.decide",
    "Decision": "gateway.decide",
    "ExchangeHooks": "gateway.hooks",
    "Gateway": "gateway.app",
    "GatewaySettings": "gateway.settings",
    "PhaseSpec": "gateway.rollout",
    "UpstreamError": "gateway.errors",
    "create_app": "gateway.app",
    "load_table": "gateway.loader",
    "parse_table": "gateway.loader",
}

if TYPE_CHECKING:
    from gateway.app import Gateway, create_app
    from gateway.compiler import CompiledTable
    from gateway.decide import Decider, Decision
    from gateway.errors import ConfigError, UpstreamError
    from gateway.hooks import Answer, ExchangeHooks
    from gateway.loader import load_table, parse_table
    from gateway.rollout import PhaseSpec
    from gateway.settings import GatewaySettings


def __getattr__(name: str) -> Any:
    # Lazy: `python -m gateway check` and the other engineers' modules should not import FastAPI
    # and aiohttp just by importing the package.
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'gateway' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
