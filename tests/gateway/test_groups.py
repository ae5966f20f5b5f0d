from __future__ import annotations

from dataclasses import dataclass

from gateway.groups import check_groups, side_of


@dataclass(frozen=True)
class P:
    start: float
    mode: str
    percent: float | None = None


def test_reads_in_shadow_and_writes_on_legacy_flip_together_to_live() -> None:
    reads = [P(100, "shadow"), P(200, "live")]
    writes = [P(200, "live")]
    assert check_groups({"settings": [("settings-read", reads), ("settings-write", writes)]}) == []


def test_group_split_between_sides_is_refused_with_the_instant() -> None:
    reads = [P(100, "shadow"), P(200, "live")]
    writes = [P(300, "live")]
    [(route, message)] = check_groups({"settings": [("settings-read", reads), ("settings-write", writes)]})
    assert route == "settings-write"
    assert "group 'settings' must flip together" in message
    assert "1970-01-01T00:03:20+00:00" in message
    assert "settings-read on target, settings-write on legacy" in message


def test_same_canary_percent_is_one_side_and_different_percent_is_not() -> None:
    a = [P(100, "canary", 10), P(200, "live")]
    b = [P(100, "canary", 10), P(200, "live")]
    c = [P(100, "canary", 20), P(200, "live")]
    assert check_groups({"g": [("a", a), ("b", b)], "solo": [("x", c)]}) == []
    assert len(check_groups({"g": [("a", a), ("c", c)]})) == 1
    assert side_of("canary", 12.5) == "canary 12.5%"
