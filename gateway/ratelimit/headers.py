"""The answer to a refused request: 429, ``Retry-After`` and the IETF RateLimit fields.

draft-ietf-httpapi-ratelimit-headers (-08 onwards, current -12): both fields are Structured-Field
Lists of Items named by the policy. ``RateLimit-Policy: "login";q=10;w=60`` states the quota (``q``
requests per ``w`` seconds); ``RateLimit: "login";r=0;t=6`` the state (``r`` remaining, ``t``
seconds until more quota). ``Retry-After`` (RFC 9110 10.2.3) is sent as well and never points earlier
than ``t`` (the draft's rule): both are the same rounded-up delay.
"""

from __future__ import annotations

import json
import math
from email.utils import formatdate

from gateway.ratelimit.gcra import Verdict
from gateway.ratelimit.policy import Quota

STATUS = 429


def _sf_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def delay_seconds(seconds: float) -> int:
    """Whole seconds, rounded up and at least 1: a client that waits this long is admitted."""
    return max(1, math.ceil(seconds - 1e-9))


def policy_field(quota: Quota) -> bytes:
    return f"{_sf_string(quota.name)};q={quota.limit};w={max(1, math.ceil(quota.window))}".encode()


def state_field(quota: Quota, verdict: Verdict) -> bytes:
    wait = verdict.retry_after if not verdict.allowed else verdict.reset_after
    seconds = delay_seconds(wait) if not verdict.allowed else math.ceil(wait)
    return f"{_sf_string(quota.name)};r={verdict.remaining};t={seconds}".encode()


def refusal(quota: Quota, verdict: Verdict, request_id: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers (without the gateway's own route and request-id headers) and body of a 429."""
    body = json.dumps(
        {
            "error": {
                "code": "rate_limited",
                "message": f"rate limit {quota.name!r} exceeded: {quota.limit} requests per "
                f"{quota.window:g}s; retry after {delay_seconds(verdict.retry_after)}s",
                "request_id": request_id,
            }
        }
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"date", formatdate(usegmt=True).encode()),
        (b"retry-after", str(delay_seconds(verdict.retry_after)).encode()),
        (b"ratelimit-policy", policy_field(quota)),
        (b"ratelimit", state_field(quota, verdict)),
    ]
    return headers, body
