from __future__ import annotations

import json

from gateway.ratelimit.gcra import Verdict
from gateway.ratelimit.headers import delay_seconds, refusal, state_field
from gateway.ratelimit.policy import RateLimit, compile_quotas

QUOTA = compile_quotas("login", (RateLimit.model_validate({"limit": 10, "window": "1m"}),))[0]


def test_a_refusal_carries_retry_after_and_the_ietf_fields() -> None:
    headers, body = refusal(QUOTA, Verdict(False, 0, 5.2, 59.0), "rid-1")
    fields = dict(headers)
    assert fields[b"retry-after"] == b"6"
    assert fields[b"ratelimit-policy"] == b'"login";q=10;w=60'
    assert fields[b"ratelimit"] == b'"login";r=0;t=6'
    assert int(fields[b"content-length"]) == len(body)
    error = json.loads(body)["error"]
    assert (error["code"], error["request_id"]) == ("rate_limited", "rid-1")


def test_delays_round_up_and_are_never_zero() -> None:
    assert [delay_seconds(s) for s in (0.0, 0.0001, 1.0, 1.2)] == [1, 1, 1, 2]
    assert state_field(QUOTA, Verdict(True, 4, 0.0, 36.5)) == b'"login";r=4;t=37'
