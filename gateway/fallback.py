"""When a request meant for the target is answered by legacy instead (DESIGN.md, proxy rules).

The rule lives here and only here: the proxy asks :func:`fallback_for` after a failed attempt.

- It never reached the target (connect error, open circuit, no free connection): retry on
  legacy, whatever the method: the target has not seen it, so nothing can happen twice.
- It reached the target: retry on legacy only when the method is safe (GET/HEAD/OPTIONS) and
  the target answered 5xx or timed out. A write that reached the target is never resent, even
  if the connection died before the answer, because the target may have committed it.
"""

from __future__ import annotations

import enum

from gateway.canary import Side
from gateway.decide import Decision
from gateway.routing_schema import SAFE_METHODS


class Attempt(enum.Enum):
    NOT_REACHED = "not_reached"
    """The request bytes never left for the target (connect failure, breaker open)."""
    TIMEOUT = "timeout"
    """Sent, then no (complete) answer in time."""
    FAILED = "failed"
    """Sent, then the connection broke: the target may have acted on it."""
    ANSWERED = "answered"


def should_fall_back(method: str, attempt: Attempt, status: int | None = None) -> bool:
    if attempt is Attempt.NOT_REACHED:
        return True
    if method.upper() not in SAFE_METHODS:
        return False
    if attempt in (Attempt.TIMEOUT, Attempt.FAILED):
        return True
    return status is not None and status >= 500


def reason(method: str, attempt: Attempt, status: int | None = None) -> str:
    """A short word for logs and metrics: why (or why not) legacy answered instead."""
    if attempt is Attempt.NOT_REACHED:
        return "not_reached"
    if not should_fall_back(method, attempt, status):
        return "unsafe" if method.upper() not in SAFE_METHODS else "none"
    return attempt.value if attempt is not Attempt.ANSWERED else f"status_{status}"


def fallback_for(
    decision: Decision,
    method: str,
    attempt: Attempt,
    status: int | None = None,
    *,
    has_body: bool = False,
    body_read: bool = False,
    answer_started: bool = False,
) -> str | None:
    """The upstream to retry on once, or None: the rule above, for one target-side decision.

    Nothing is retried once the answer to the client has started, or once any of the request body
    was read (it cannot be sent again). A reached request with a body is never resent either.
    """
    if decision.side is not Side.TARGET or decision.alternate is None or answer_started:
        return None
    if decision.alternate == decision.upstream:
        return None
    if attempt is Attempt.NOT_REACHED:
        return None if body_read else decision.alternate
    if has_body:
        return None
    return decision.alternate if should_fall_back(method, attempt, status) else None
