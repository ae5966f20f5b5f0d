"""Per-request extension points for the cutover machinery (shadow, fallback, guard statistics).

The proxy consults an ``ExchangeHooks`` object, when one is given, at three moments:

1. ``fallback_upstream`` when the chosen upstream failed before anything was sent to the client:
   it returns the upstream to retry on once, or None. The proxy only offers a retry when it is
   mechanically safe: the request never reached the upstream (any method; its body was not read
   yet), or the method is safe (GET/HEAD/OPTIONS) without a body. The policy itself (DESIGN.md's
   fallback rule) is the hook's business.
2. ``wants_copy`` just before the response is relayed: True asks the proxy to keep a copy of the
   response body (up to ``COPY_LIMIT`` bytes) for a shadow diff. The client is never delayed.
3. ``answered`` once per request, after the last byte went out (or the request failed), with an
   ``Answer`` describing what happened.

The base class does nothing, so subclasses override only what they need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.rollout import Decision
from gateway.types import Scope

if TYPE_CHECKING:
    from gateway.compiler import CompiledTable

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
    def fallback_upstream(
        self, decision: Decision, method: str, *, reached: bool, status: int | None
    ) -> str | None:
        return None

    def wants_copy(self, decision: Decision) -> bool:
        return False

    def answered(self, answer: Answer) -> None:
        return None
