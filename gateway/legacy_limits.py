"""The request limits of legacy's HTTP server, kept whichever side a request is routed to.

Legacy runs under gunicorn, which refuses a request before the app sees it: a request line longer
than ``limit_request_line`` (4094 bytes) gets 414, a header line longer than
``limit_request_field_size`` (8190 bytes with its CRLF) or more than ``limit_request_fields`` (100)
header lines get 431, each with gunicorn's own HTML page. The services (uvicorn) accept all
three, so a migrated route answered ``GET /api/videos/search?q=<4,100 bytes>`` 200 where legacy
answered 414: the answer told the sides apart. A request legacy's server would refuse is sent to
legacy instead of the target, where it is refused in legacy's own words, byte for byte.

The limits are measured on what the gateway forwards (its own X-Forwarded-* and request id
headers included), as gunicorn measures what it receives. 0 turns a limit off.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.canary import Side
from gateway.compiler import CompiledTable
from gateway.decide import Decision
from gateway.forwarding import RequestHead

#: gunicorn caps limit_request_line and limit_request_field_size here (0 means its own maximum).
GUNICORN_MAX = 8190


@dataclass(frozen=True, slots=True)
class LegacyServerLimits:
    request_line: int = 4094
    field_size: int = 8190
    fields: int = 100

    def refuses(
        self, method: str, target: bytes, headers: Sequence[tuple[bytes, bytes]], *, chunked: bool = False
    ) -> bool:
        """Would legacy's server refuse this forwarded request before the app sees it?"""
        line_limit = min(self.request_line, GUNICORN_MAX)
        # "GET /path?query HTTP/1.1", without its CRLF
        if line_limit > 0 and len(method) + len(target) + 10 > line_limit:
            return True
        # the transport adds Transfer-Encoding to a chunked request
        if self.fields > 0 and len(headers) + chunked > self.fields:
            return True
        field_limit = min(self.field_size, GUNICORN_MAX)
        if field_limit > 0:
            # "name: value" plus CRLF, as gunicorn counts a header line
            return any(len(name) + len(value) + 4 > field_limit for name, value in headers)
        return False

    def legacy_instead(
        self, table: CompiledTable, decision: Decision, forward_path: bytes, scope: Any, head: RequestHead
    ) -> Decision | None:
        """The legacy-side decision for a request legacy's server would refuse, or None to keep it.

        A shadowed one is not mirrored: the target would be compared with gunicorn's refusal, a
        difference no client can meet once the route is live (it goes to legacy then too).
        """
        if decision.side is not Side.TARGET and not decision.shadow:
            return None
        query: bytes = scope.get("query_string", b"")
        target = forward_path + b"?" + query if query else forward_path
        if not self.refuses(scope["method"], target, head.headers, chunked=head.chunked):
            return None
        if decision.side is not Side.TARGET:
            return dataclasses.replace(decision, shadow=False, alternate=None, why="legacy server limits")
        route_id = decision.route_id
        legacy = next((route.legacy for route in table.routes if route.id == route_id), table.default)
        if legacy == decision.upstream:
            return None  # a plain `to` route: there is no legacy side to answer
        return dataclasses.replace(
            decision, upstream=legacy, alternate=None, side=Side.LEGACY, why="legacy server limits"
        )
