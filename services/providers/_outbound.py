"""One provider's outbound channel: every request to that provider goes through it.

A request waits for the provider's rate-limit slot, is refused at once while the circuit
breaker is open, and (idempotent methods only) is retried with exponential backoff and
jitter on connect errors, timeouts, 429 and 5xx, honouring `Retry-After`, within the
provider's retry budget. Each attempt is one `provider.request` structlog event and one
sample of the provider's metrics. Neither carries a URL query, a header or a body: that is
where keys live.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx
import structlog

import services.providers.metrics as metrics
from services.providers._direct import ProviderResponse
from services.providers._policy import BreakerState, CircuitBreaker, RateLimiter, RetryBudget
from services.providers.errors import ProviderError, ProviderUnavailable

log = structlog.get_logger("services.providers")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.ConnectError, httpx.RemoteProtocolError)
DEFAULT_BACKOFF_INITIAL = 0.2
DEFAULT_BACKOFF_MAX = 5.0


def _retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def retry_after_seconds(response: ProviderResponse) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date), or None when absent/invalid."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    label: str  # how legacy names the provider in messages ("Last.fm", "IMVDb")
    min_interval: float = 0.0
    space_from_completion: bool = False
    max_attempts: int = 3
    max_retry_after: float = 10.0
    breaker_threshold: int = 5
    breaker_reset: float = 30.0
    backoff_initial: float = DEFAULT_BACKOFF_INITIAL
    backoff_max: float = DEFAULT_BACKOFF_MAX
    retry_budget_ratio: float = 0.2
    retry_budget_reserve: float = 5.0


class Send(Protocol):
    """One HTTP exchange: `DirectSender.request` or `httpx.AsyncClient.request`."""

    def __call__(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = ...,
        headers: dict[str, str] | None = ...,
        data: dict[str, str] | None = ...,
    ) -> Awaitable[ProviderResponse]: ...


class ProviderChannel:
    def __init__(
        self,
        send: Send,
        config: ChannelConfig,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.send = send
        self._sleep = sleep
        self.config = config
        self.name = config.name
        self.limiter = RateLimiter(config.min_interval, space_from_completion=config.space_from_completion)
        self.breaker = CircuitBreaker(config.breaker_threshold, config.breaker_reset)
        self.budget = RetryBudget(config.retry_budget_ratio, config.retry_budget_reserve)
        # This provider's metric children, looked up once instead of on every attempt.
        self._latency = metrics.LATENCY.labels(self.name)
        self._rate_wait = metrics.RATE_LIMIT_WAIT.labels(self.name)
        self._breaker_gauge = metrics.BREAKER_STATE.labels(self.name)
        self._requests: dict[str, Any] = {}
        self._breaker_gauge.set(int(self.breaker.state))

    async def request(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> ProviderResponse:
        """Send through the policy; answers the final response, even a 429/5xx one (the
        client turns statuses into messages). Raises ProviderError on transport failure.

        The first attempt is a plain call: the retry bookkeeping (backoff, budget,
        Retry-After) only runs once an attempt has failed."""
        if not self.breaker.allow():
            metrics.FAST_FAILS.labels(self.name).inc()
            log.warning("provider.fast_fail", provider=self.name, endpoint=endpoint, breaker="open")
            raise ProviderUnavailable(self.name, f"{self.config.label} is unavailable (circuit open)")
        self.budget.on_request()
        attempts = self.config.max_attempts if method.upper() in IDEMPOTENT_METHODS else 1
        attempt = 1
        try:
            while True:
                failure: ProviderResponse | Exception
                try:
                    response = await self._send(
                        method,
                        url,
                        endpoint=endpoint,
                        attempt=attempt,
                        params=params,
                        headers=headers,
                        data=data,
                    )
                except RETRYABLE_ERRORS as exc:
                    failure = exc
                else:
                    if not _retryable_status(response.status_code):
                        break
                    failure = response
                if not self._should_retry(failure, attempt, attempts):
                    if isinstance(failure, Exception):
                        raise failure
                    self._settle(ok=failure.status_code < 500)
                    return failure
                delay = self._wait(failure, attempt)
                metrics.RETRIES.labels(self.name).inc()
                await self._sleep(delay)
                attempt += 1
        except httpx.TimeoutException as exc:
            self._settle(ok=False)
            raise ProviderError(self.name, f"{self.config.label} request failed: timed out") from exc
        except httpx.HTTPError as exc:
            self._settle(ok=False)
            reason = type(exc).__name__
            raise ProviderError(self.name, f"{self.config.label} request failed: {reason}") from exc
        except BaseException:
            # Cancelled (the caller gave up): a half-open probe must not stay claimed forever.
            self.breaker.release_probe()
            raise
        self._settle(ok=True)
        return response

    def _settle(self, *, ok: bool) -> None:
        if ok:
            self.breaker.record_success()
        else:
            self.breaker.record_failure()
        self._breaker_gauge.set(int(self.breaker.state))

    def _counter(self, status: str) -> Any:
        counter = self._requests.get(status)
        if counter is None:
            counter = self._requests[status] = metrics.REQUESTS.labels(self.name, status)
        return counter

    async def _send(
        self, method: str, url: str, *, endpoint: str, attempt: int, **kwargs: Any
    ) -> ProviderResponse:
        if self.limiter.min_interval <= 0:  # no spacing for this provider: no slot to take
            return await self._timed(method, url, endpoint, attempt, 0.0, kwargs)
        async with self.limiter.slot() as waited:
            return await self._timed(method, url, endpoint, attempt, waited, kwargs)

    async def _timed(
        self, method: str, url: str, endpoint: str, attempt: int, waited: float, kwargs: dict[str, Any]
    ) -> ProviderResponse:
        self._rate_wait.observe(waited)
        started = time.perf_counter()
        status = "error"
        try:
            response = await self.send(method, url, **kwargs)
            status = str(response.status_code)
            return response
        except httpx.TimeoutException:
            status = "timeout"
            raise
        except httpx.HTTPError as exc:
            status = type(exc).__name__
            raise
        finally:
            elapsed = time.perf_counter() - started
            self._counter(status).inc()
            self._latency.observe(elapsed)
            log.info(
                "provider.request",
                provider=self.name,
                endpoint=endpoint,
                method=method,
                status=status,
                attempt=attempt,
                duration_ms=round(elapsed * 1000, 1),
                rate_limit_wait_ms=round(waited * 1000, 1),
            )

    def _should_retry(self, failure: ProviderResponse | Exception, attempt: int, attempts: int) -> bool:
        if attempt >= attempts:
            return False
        if not isinstance(failure, Exception):
            after = retry_after_seconds(failure)
            if after is not None and after > self.config.max_retry_after:
                return False  # the provider asks for longer than we may wait: answer now
        if self.breaker.state is not BreakerState.CLOSED:
            return False
        if not self.budget.try_spend():
            metrics.RETRIES_DENIED.labels(self.name).inc()
            log.warning("provider.retry_denied", provider=self.name, reason="retry budget exhausted")
            return False
        return True

    def _wait(self, failure: ProviderResponse | Exception, attempt: int) -> float:
        if not isinstance(failure, Exception):
            after = retry_after_seconds(failure)
            if after is not None:
                return after
        return backoff(attempt, self.config.backoff_initial, self.config.backoff_max)


def backoff(attempt: int, initial: float, maximum: float) -> float:
    """Exponential backoff with up to 1 s of jitter after failed attempt `attempt` (1-based):
    tenacity's `wait_exponential_jitter(initial, max)`, which this channel used before."""
    return max(0.0, min(initial * 2.0 ** (attempt - 1) + random.uniform(0, 1), maximum))
