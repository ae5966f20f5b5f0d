"""W3C trace context (``traceparent``/``tracestate``): continued or started on every request.

The gateway is one span in the client's trace: it keeps the incoming trace id, takes a fresh span
id of its own and sends ``traceparent: 00-<trace id>-<gateway span id>-<flags>`` upstream, so the
legacy app's and the services' spans hang under the gateway's. A mirrored (shadow) copy gets yet
another span id (a sibling of the real forward, never mistaken for it) and ``X-Figway-Shadow``.
``tracestate`` is vendor data the gateway does not own: it is forwarded untouched.

This is plain string work on the hot path (two random numbers and one bytes join); the
OpenTelemetry SDK is only involved when an exporter is configured (:mod:`gateway.spans`).
A trace the gateway starts is marked sampled: the gateway cannot know whether a service records,
and an unsampled flag would make every parent-based sampler downstream drop its spans.
"""

from __future__ import annotations

import re
from random import getrandbits

TRACEPARENT = b"traceparent"
TRACESTATE = b"tracestate"
_ZERO_TRACE = b"0" * 32
_ZERO_SPAN = b"0" * 16
#: version-traceid-parentid-flags, lowercase hex; a later version may append ``-...`` fields.
_TRACEPARENT = re.compile(rb"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", re.DOTALL)


def new_span_id() -> bytes:
    return b"%016x" % (getrandbits(64) or 1)


class TraceContext:
    """The request's place in a trace: its trace id, the caller's span and the gateway's span."""

    __slots__ = ("flags", "parent_id", "span_id", "trace_id")

    def __init__(self, trace_id: bytes, span_id: bytes, parent_id: bytes | None, flags: bytes) -> None:
        self.trace_id = trace_id
        #: The gateway's own span (the parent of whatever the upstream records).
        self.span_id = span_id
        #: The caller's span, None when the gateway started the trace.
        self.parent_id = parent_id
        self.flags = flags

    @property
    def sampled(self) -> bool:
        return int(self.flags, 16) & 1 == 1

    def traceparent(self) -> bytes:
        """The header for the real forward: the gateway's span is the upstream's parent."""
        return b"00-" + self.trace_id + b"-" + self.span_id + b"-" + self.flags

    def mirror_traceparent(self) -> bytes:
        """The header for a shadow copy: a span id of its own, so the copy is told apart."""
        return b"00-" + self.trace_id + b"-" + new_span_id() + b"-" + self.flags


def parse_traceparent(value: bytes) -> tuple[bytes, bytes, bytes] | None:
    """``(trace id, parent span id, flags)`` of a valid header, else None (W3C Trace Context 1)."""
    match = _TRACEPARENT.fullmatch(value)
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == b"ff" or (version == b"00" and rest is not None):
        return None
    if trace_id == _ZERO_TRACE or parent_id == _ZERO_SPAN:
        return None
    return trace_id, parent_id, flags


def continue_or_start(traceparent: bytes | None) -> TraceContext:
    """Continue the caller's trace when its header is valid, otherwise start a new sampled one."""
    if traceparent is not None:
        parsed = parse_traceparent(traceparent)
        if parsed is not None:
            trace_id, parent_id, flags = parsed
            # only the sampled bit is defined for version 00; others are not passed on as ours
            return TraceContext(trace_id, new_span_id(), parent_id, b"01" if int(flags, 16) & 1 else b"00")
    # one random number for both ids; the low bit set keeps either from being all zeros (invalid)
    ids = b"%048x" % (getrandbits(192) | 1 | 1 << 64)
    return TraceContext(ids[:32], ids[32:], None, b"01")
