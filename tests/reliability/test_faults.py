"""The proving ground's quick variant: every fault scenario of ``python -m bench reliability``
with short bounds (about 15 s of load each), real processes on loopback, SQLite.

The checks are counts (failed requests, lost/duplicated rows, breaker states, wrong tables
served); the timing figures the scenarios also collect are not asserted here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.reliability import scenarios
from bench.reliability.main import QUICK
from bench.reliability.stack import database


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[str]:
    with database("sqlite", tmp_path) as url:
        yield url


def assert_all_checks_hold(result: scenarios.Scenario) -> None:
    failed = [f"{c.what}: {c.detail}" for c in result.checks if not c.ok]
    assert not failed, f"{result.name}: {failed}; figures: {result.figures}"
    assert result.requests > 0


def test_services_killed_under_load_loses_no_safe_request_and_applies_no_write_twice(
    sqlite_db: str, tmp_path: Path
) -> None:
    result = scenarios.kill_services(sqlite_db, tmp_path, seconds=QUICK.kill_seconds)
    assert_all_checks_hold(result)
    assert result.failed_where_fallback == 0 and result.rows_lost == 0 and result.rows_duplicated == 0


def test_a_slow_upstream_gets_504s_and_leaves_other_routes_and_the_gateway_untouched(
    sqlite_db: str, tmp_path: Path
) -> None:
    result = scenarios.slow_upstream(sqlite_db, tmp_path, seconds=QUICK.slow_seconds)
    checks = {c.what: c.ok for c in result.checks}
    # Timing-dependent checks are reported by the bench, not asserted in CI: the 504's latency, and
    # "no growth" to within 2 sockets (under coverage on a busy machine, idle pooled connections may
    # outlive the 4.5 s wait). A leak would grow by one per 504 (over a hundred here): bound by
    # the number of concurrent clients instead.
    for timing in (
        "504 came within the timeout (+0.5 s)",
        "no growth of gateway connections",
        "no growth of gateway fds",
    ):
        checks.pop(timing)
    assert all(checks.values()), result.checks
    conns_before, _, conns_after = result.figures["gateway TCP connections before / peak / after"]
    fds_before, fds_after = result.figures["gateway fds before / after"]
    assert conns_after - conns_before <= 16 and fds_after - fds_before <= 16, result.figures


def test_a_reload_storm_under_load_fails_no_request_and_always_serves_the_last_good_table(
    sqlite_db: str, tmp_path: Path
) -> None:
    result = scenarios.reload_storm(sqlite_db, tmp_path, reloads=QUICK.reloads)
    assert_all_checks_hold(result)
    assert result.failed == 0


def test_a_failing_or_hanging_shadow_target_never_reaches_clients_and_drops_are_counted(
    sqlite_db: str, tmp_path: Path
) -> None:
    result = scenarios.shadow_faults(sqlite_db, tmp_path, seconds=QUICK.shadow_seconds)
    assert_all_checks_hold(result)


def test_a_short_soak_with_route_flips_fails_no_request_and_keeps_fds_and_memory_flat(
    sqlite_db: str, tmp_path: Path
) -> None:
    result = scenarios.soak(sqlite_db, tmp_path, seconds=QUICK.soak_seconds, flip_every=QUICK.flip_every)
    assert_all_checks_hold(result)
