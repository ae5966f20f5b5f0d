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
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import structlog
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, wait_exponential_jitter

import services.providers.metrics as metrics
from services.providers._policy import BreakerState, CircuitBreaker, RateLimiter, RetryBudget
from services.providers.errors import ProviderError, ProviderUnavailable

log = structlog.get_logger("services.providers")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.ConnectError, httpx.RemoteProtocolError)
DEFAULT_BACKOFF_INITIAL = 0.2
DEFAULT_BACKOFF_MAX = 5.0


def _retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def retry_after_seconds(response: httpx.Response) -> float | None:
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


class _RetryableStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


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


class ProviderChannel:
    def __init__(
        self,
        client: httpx.AsyncClient,
        config: ChannelConfig,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self._sleep = sleep
        self.config = config
        self.name = config.name
        self.limiter = RateLimiter(config.min_interval, space_from_completion=config.space_from_completion)
        self.breaker = CircuitBreaker(config.breaker_threshold, config.breaker_reset)
        self.budget = RetryBudget(config.retry_budget_ratio, config.retry_budget_reserve)
        self._backoff = wait_exponential_jitter(initial=config.backoff_initial, max=config.backoff_max)
        metrics.BREAKER_STATE.labels(self.name).set(int(self.breaker.state))

    async def request(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send through the policy; answers the final response, even a 429/5xx one (the
        client turns statuses into messages). Raises ProviderError on transport failure."""
        if not self.breaker.allow():
            metrics.FAST_FAILS.labels(self.name).inc()
            log.warning("provider.fast_fail", provider=self.name, endpoint=endpoint, breaker="open")
            raise ProviderUnavailable(self.name, f"{self.config.label} is unavailable (circuit open)")
        self.budget.on_request()
        attempts = self.config.max_attempts if method.upper() in IDEMPOTENT_METHODS else 1
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            retry=lambda state: self._should_retry(state, attempts),
            before_sleep=self._before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._send(
                        method,
                        url,
                        endpoint=endpoint,
                        attempt=attempt.retry_state.attempt_number,
                        params=params,
                        headers=headers,
                        data=data,
                    )
                    if _retryable_status(response.status_code):
                        raise _RetryableStatus(response)
        except _RetryableStatus as exc:
            self._settle(ok=exc.response.status_code < 500)
            return exc.response
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
        metrics.BREAKER_STATE.labels(self.name).set(int(self.breaker.state))

    async def _send(
        self, method: str, url: str, *, endpoint: str, attempt: int, **kwargs: Any
    ) -> httpx.Response:
        async with self.limiter.slot() as waited:
            metrics.RATE_LIMIT_WAIT.labels(self.name).observe(waited)
            started = time.perf_counter()
            status = "error"
            try:
                response = await self.client.request(method, url, **kwargs)
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
                metrics.REQUESTS.labels(self.name, status).inc()
                metrics.LATENCY.labels(self.name).observe(elapsed)
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

    def _should_retry(self, state: RetryCallState, attempts: int) -> bool:
        outcome = state.outcome
        if outcome is None or not outcome.failed or state.attempt_number >= attempts:
            return False
        exc = outcome.exception()
        if isinstance(exc, _RetryableStatus):
            after = retry_after_seconds(exc.response)
            if after is not None and after > self.config.max_retry_after:
                return False  # the provider asks for longer than we may wait: answer now
        elif not isinstance(exc, RETRYABLE_ERRORS):
            return False
        if self.breaker.state is not BreakerState.CLOSED:
            return False
        if not self.budget.try_spend():
            metrics.RETRIES_DENIED.labels(self.name).inc()
            log.warning("provider.retry_denied", provider=self.name, reason="retry budget exhausted")
            return False
        return True

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _RetryableStatus):
            after = retry_after_seconds(exc.response)
            if after is not None:
                return after
        return float(self._backoff(state))

    def _before_sleep(self, state: RetryCallState) -> None:
        metrics.RETRIES.labels(self.name).inc()
