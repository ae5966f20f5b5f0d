"""The per-side time series: 10-second buckets in a one-hour ring, windows, p99, chart points."""

from __future__ import annotations

import pytest

from gateway.timeseries import BUCKET_SECONDS, BUCKETS, LATENCY_BOUNDS_MS, SERIES_BYTES, Series, quantile

T0 = 1_800_000_000.0  # a multiple of 10 s


def test_a_window_counts_requests_errors_and_rate_of_its_buckets_only() -> None:
    series = Series()
    series.add(T0 - 600, 5.0, False)  # 10 minutes ago: in the hour, not in the last 5 minutes
    for i in range(9):
        series.add(T0 + i, 5.0, i == 0)
    five = series.window(T0 + 9, 300)
    assert (five.requests, five.errors) == (9, 1)
    assert five.error_rate == pytest.approx(1 / 9)
    assert five.rate == pytest.approx(9 / 300)
    hour = series.window(T0 + 9, 3600)
    assert hour.requests == 10 and series.last_at == T0 + 8


def test_buckets_older_than_an_hour_are_forgotten_when_their_slot_comes_round() -> None:
    series = Series()
    series.add(T0, 1.0, True)
    later = T0 + BUCKETS * BUCKET_SECONDS  # the same ring slot, one hour on
    assert series.window(later, 3600).requests == 0  # stale epoch: not counted although not cleared yet
    series.add(later, 1.0, False)
    figures = series.window(later, 3600)
    assert (figures.requests, figures.errors) == (1, 0)


def test_p99_is_interpolated_within_the_histogram_bin() -> None:
    series = Series()
    for _ in range(99):
        series.add(T0, 3.0, False)  # bin (2, 5]
    series.add(T0, 700.0, False)  # bin (500, 1000]
    p99 = series.window(T0, 300).p99_ms
    assert p99 is not None and 2.0 < p99 <= 5.0
    assert Series().window(T0, 300).p99_ms is None


def test_quantile_above_the_last_bound_is_the_last_bound() -> None:
    bins = [0] * (len(LATENCY_BOUNDS_MS) + 1)
    bins[-1] = 3
    assert quantile(bins, 0.99) == LATENCY_BOUNDS_MS[-1]
    assert quantile([0] * len(bins), 0.5) is None


def test_points_cover_the_hour_per_minute_oldest_first_with_empty_minutes() -> None:
    series = Series()
    series.add(T0 - 120, 1.0, True)
    series.add(T0 - 119, 1.0, False)
    series.add(T0 + 5, 1.0, False)
    points = series.points(T0 + 5, 3600, 60)
    assert len(points) == 60
    assert points[-1].at <= T0 + 5 < points[-1].at + 60
    assert [p.at for p in points] == sorted(p.at for p in points)
    assert sum(p.requests for p in points) == 3 and sum(p.errors for p in points) == 1
    assert sum(1 for p in points if p.requests == 0) == 58


def test_memory_is_fixed_per_side() -> None:
    series = Series()
    for i in range(10_000):
        series.add(T0 + i, float(i % 40_000), i % 7 == 0)
    arrays = (series._epochs, series._counts, series._errors, series._hist)
    assert sum(a.itemsize * len(a) for a in arrays) == SERIES_BYTES
    assert SERIES_BYTES < 32 * 1024
