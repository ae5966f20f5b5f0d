"""Per-route rate limits: GCRA shared through Redis, with a local fallback.

policy        routing.yaml's ``rate_limit`` (RateLimit) and its compiled form (Quota)
gcra          the algorithm, and the in-process store (LocalBuckets)
redis_store   the same algorithm as one atomic Lua script (RedisBuckets)
keys          whose budget a request spends (address through trusted proxies, user, API key, header)
limiter       RateLimiter: the store in use, the fallback, the metrics
headers       the 429 answer with Retry-After and the IETF RateLimit fields
"""

from __future__ import annotations

from gateway.ratelimit.gcra import LocalBuckets, Verdict
from gateway.ratelimit.headers import refusal
from gateway.ratelimit.limiter import RateLimiter, Refusal
from gateway.ratelimit.policy import Quota, RateLimit, RateLimits, check_policies, compile_quotas
from gateway.ratelimit.redis_store import RedisBuckets, StoreUnavailable

__all__ = [
    "LocalBuckets",
    "Quota",
    "RateLimit",
    "RateLimiter",
    "RateLimits",
    "RedisBuckets",
    "Refusal",
    "StoreUnavailable",
    "Verdict",
    "check_policies",
    "compile_quotas",
    "refusal",
]
