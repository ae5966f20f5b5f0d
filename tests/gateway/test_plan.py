from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.plan import build_calendar, format_calendar

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class P:
    start: float
    mode: str
    percent: float | None = None


def _at(*args: int) -> float:
    return datetime(*args, tzinfo=BERLIN).timestamp()


def test_calendar_groups_flips_by_iso_week_in_the_table_timezone() -> None:
    schedules = {
        "videos": [
            P(_at(2026, 12, 7), "shadow"),
            P(_at(2026, 12, 14), "canary", 10),
            P(_at(2026, 12, 21), "live"),
        ],
        "settings": [P(_at(2026, 11, 30), "shadow"), P(_at(2026, 12, 7), "live")],
        "static": [P(_at(2026, 11, 30), "legacy")],
    }
    weeks = build_calendar(schedules, BERLIN)
    assert [w.week for w in weeks] == ["2026-W49", "2026-W50", "2026-W51", "2026-W52"]
    assert [(f.route_id, f.before, f.after) for f in weeks[1].flips] == [
        ("settings", "shadow", "live"),
        ("videos", "legacy", "shadow"),
    ]
    assert weeks[2].as_json()["flips"][0]["to"] == "canary 10%"
    text = format_calendar(weeks)
    assert "2026-W51\n  Mon 2026-12-14 00:00  videos: shadow -> canary 10%" in text


def test_empty_calendar_says_so() -> None:
    assert "nothing changes" in format_calendar(build_calendar({}, BERLIN))
