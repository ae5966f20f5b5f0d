"""Observers of every exchange (tests, extensions): see each outcome, ask for a body copy.

The proxy consults an ``ExchangeHooks`` object, when one is given, at two moments:

1. ``wants_copy`` just before the response is relayed: True asks the proxy to keep a copy of the
   response body (up to ``COPY_LIMIT`` bytes). The client is never delayed.
2. ``answered`` once per request, after the last byte went out (or the request failed), with an
   ``Answer`` describing what happened.

Hooks observe; they decide nothing. Which side answers is :mod:`gateway.decide`'s, when another
side may answer instead is :mod:`gateway.fallback`'s. The base class does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.compiler import CompiledTable
from gateway.decide import Decision
from gateway.types import Scope

#: Largest response body copied for ``answered`` (larger ones are passed as ``body=None``).
COPY_LIMIT = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Answer:
    table: CompiledTable
    decision: Decision
    scope: Scope
    forward_path: bytes
    request_id: str
    status: int
    #: Response headers as sent to the client (lower-case names), empty when the gateway answered.
    headers: tuple[tuple[bytes, bytes], ...]
    #: Copy of the response body when ``wants_copy`` said so and it fit in ``COPY_LIMIT``.
    body: bytes | None
    latency_s: float
    #: False when the request never reached ``decision.upstream``.
    reached: bool
    #: The upstream that failed first when this answer came from a fallback retry.
    fell_back_from: str | None = None
    error: str | None = None


class ExchangeHooks:
    def wants_copy(self, decision: Decision) -> bool:
        return False

    def answered(self, answer: Answer) -> None:
        return None
