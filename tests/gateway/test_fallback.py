from __future__ import annotations

import pytest

from gateway.fallback import Attempt, reason, should_fall_back


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
