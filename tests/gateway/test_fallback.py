from __future__ import annotations

import aiohttp
import pytest

from gateway.fallback import Attempt, classify, reason, should_fall_back


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH"])
def test_request_that_never_reached_target_falls_back_for_any_method(method: str) -> None:
    assert should_fall_back(method, Attempt.NOT_REACHED)
    assert reason(method, Attempt.NOT_REACHED) == "not_reached"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("attempt", [Attempt.TIMEOUT, Attempt.FAILED, Attempt.ANSWERED])
def test_write_that_reached_target_is_never_resent(method: str, attempt: Attempt) -> None:
    assert not should_fall_back(method, attempt, 503)
    assert reason(method, attempt, 503) == "unsafe"


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_request_falls_back_on_5xx_or_timeout_only(method: str) -> None:
    assert should_fall_back(method, Attempt.ANSWERED, 500)
    assert should_fall_back(method, Attempt.ANSWERED, 504)
    assert should_fall_back(method, Attempt.TIMEOUT)
    assert not should_fall_back(method, Attempt.ANSWERED, 404)
    assert not should_fall_back(method, Attempt.ANSWERED, 200)
    assert reason(method, Attempt.ANSWERED, 502) == "status_502"
    assert reason(method, Attempt.TIMEOUT) == "timeout"
    assert reason(method, Attempt.ANSWERED, 200) == "none"


def test_aiohttp_errors_are_classified_by_whether_the_target_saw_the_request() -> None:
    key = aiohttp.client_reqrep.ConnectionKey("h", 1, False, True, None, None, None)
    refused = aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    assert classify(refused) is Attempt.NOT_REACHED
    assert classify(aiohttp.ConnectionTimeoutError()) is Attempt.NOT_REACHED
    assert classify(aiohttp.SocketTimeoutError()) is Attempt.TIMEOUT
    assert classify(TimeoutError()) is Attempt.TIMEOUT
    assert classify(aiohttp.ServerDisconnectedError()) is Attempt.FAILED
