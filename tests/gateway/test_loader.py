from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.breaker import Breakers
from gateway.decide import Decider
from gateway.errors import ConfigError
from gateway.explain import explain
from gateway.loader import load_table, parse_table
from gateway.pins.store import Pins
from gateway.rollout import PhaseBoard

ROOT = Path(__file__).resolve().parents[2]

DESIGN_SKETCH = """\
version: 1
timezone: UTC
upstreams:
  legacy:   {url: http://127.0.0.1:5000, timeout: {connect: 1, read: 30}}
  services: {url: http://127.0.0.1:8001, timeout: {connect: 0.5, read: 10}, health: /healthz}
default: legacy                 # anything unmatched goes to the legacy app
routes:
  - id: settings
    path: /api/settings/{key}
    methods: [GET, PUT]
    to: services                # plain cutover
  - id: videos-list
    path: /api/videos/
    methods: [GET]
    target: services
    fallback: legacy            # see the fallback rule below
    rollout:                    # the table flips week by week
      - {from: 2026-W49, mode: shadow}
      - {from: 2026-W50, mode: canary, percent: 10}
      - {from: 2026-W51, mode: canary, percent: 50}
      - {from: 2026-W52, mode: live}
    guard: {max_error_rate: 0.02, min_requests: 50, window: 60s}   # automatic rollback
    shadow: {ignore: [body.query_time, headers.date]}
evidence: none                  # the calendar alone (flips waiting for evidence: tests/gateway/gates)
"""

HEAD = """\
version: 1
upstreams:
  legacy: {url: http://127.0.0.1:5000}
  services: {url: http://127.0.0.1:8001}
default: legacy
routes:
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_table(text, source="routing.yaml")
    return [str(issue) for issue in caught.value.issues]


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_design_sketch_parses_and_validates() -> None:
    table = parse_table(DESIGN_SKETCH)
    assert [route.id for route in table.routes] == ["settings", "videos-list"]
    videos = table.routes[1]
    assert [phase.mode for phase in videos.schedule] == ["shadow", "canary", "canary", "live"]
    assert videos.schedule[1].percent == 10
    assert videos.guard is not None and videos.guard.window == 60
    assert videos.shadow is not None and videos.shadow.ignore == ("body.query_time", "headers.date")
    assert videos.fallback == "legacy"


def test_repository_routing_yaml_is_valid() -> None:
    table = load_table(ROOT / "routing.yaml")
    assert table.default == "legacy"
    assert table.upstreams["legacy"].url == "http://127.0.0.1:5000"
    assert table.upstreams["services"].health == "/healthz"


def test_iso_week_starts_monday_midnight_in_table_timezone() -> None:
    text = DESIGN_SKETCH.replace("timezone: UTC", "timezone: Europe/Berlin")
    videos = parse_table(text).routes[1]
    # 2026-W49 starts Monday 2026-11-30 00:00 in Berlin = 2026-11-29 23:00 UTC
    assert videos.schedule[0].start == at("2026-11-29T23:00:00")


def test_phase_changes_with_the_injected_clock() -> None:
    now = [at("2026-11-25T12:00:00")]
    table = parse_table(DESIGN_SKETCH, clock=lambda: now[0])
    videos = table.routes[1]
    decide = Decider(pins=Pins(), breakers=Breakers()).decide
    assert table.phase(videos).mode == "legacy"
    assert decide(videos, table.phase(videos), {}).upstream == "legacy"
    now[0] = at("2026-12-08T00:00:00")
    assert table.phase(videos).mode == "canary"
    # canary 10%: the sticky bucket decides (no identity: "addr:unknown", bucket 5209 → legacy)
    assert decide(videos, table.phase(videos), {}).upstream == "legacy"
    in_bucket = {"headers": [(b"x-api-key", b"k1")]}  # bucket 176 < 1000
    assert decide(videos, table.phase(videos), in_bucket).upstream == "services"
    now[0] = at("2026-12-28T00:00:00")
    assert table.phase(videos).mode == "live"
    assert decide(videos, table.phase(videos), {}).upstream == "services"


def test_phase_board_recomputes_only_when_next_flip_passes() -> None:
    calls = []
    schedules = parse_table(DESIGN_SKETCH).routes[1].schedule

    def clock() -> float:
        calls.append(1)
        return at("2026-12-01T00:00:00")

    board = PhaseBoard((schedules,), clock)
    assert board.current(0).mode == "shadow"
    assert board.next_flip == at("2026-12-07T00:00:00")


def test_datetime_and_date_phase_starts() -> None:
    text = HEAD + (
        "  - id: r\n    path: /r\n    methods: [GET]\n    target: services\n    rollout:\n"
        "      - {from: 2026-12-01, mode: shadow}\n"
        "      - {from: '2026-12-02T09:30:00+01:00', mode: live}\n"
    )
    route = parse_table(text).routes[0]
    assert route.schedule[0].start == at("2026-12-01T00:00:00")
    assert route.schedule[1].start == at("2026-12-02T08:30:00")


@pytest.mark.parametrize(
    ("route", "line", "expected"),
    [
        ("  - id: a\n    path: /a\n    to: nowhere\n", 7, "[route a]: to: unknown upstream 'nowhere'"),
        (
            "  - id: a\n    path: /a\n    to: services\n    colour: red\n",
            10,
            "[route a]: routes.0.colour: Extra inputs",
        ),
        ("  - id: a\n    path: /a/{x:float}\n    to: services\n", 7, "[route a]: unknown parameter type"),
        (
            "  - id: a\n    path: /a\n    to: services\n  - id: a\n    path: /b\n    to: services\n",
            10,
            "[route a]: duplicate route id 'a'",
        ),
        (
            "  - id: a\n    path: /x/{p}\n    to: services\n  - id: b\n    path: /x/{q}\n    to: legacy\n",
            10,
            "[route b]: ambiguous with route 'a'",
        ),
        (
            "  - id: s\n    path: /s\n    methods: [GET, POST]\n    target: services\n"
            "    rollout: [{from: 2026-W49, mode: shadow}]\n",
            7,
            "[route s]: shadowing mirrors requests",
        ),
        (
            "  - id: o\n    path: /o\n    methods: [GET]\n    target: services\n    rollout:\n"
            "      - {from: 2026-W50, mode: shadow}\n      - {from: 2026-W49, mode: live}\n",
            7,
            "[route o]: rollout phases overlap",
        ),
        (
            "  - id: c\n    path: /c\n    target: services\n    rollout:\n"
            "      - {from: 2026-W50, mode: canary}\n",
            11,
            "[route c]: routes.0.rollout.0: a canary phase needs percent",
        ),
        (
            "  - id: w\n    path: /w\n    target: services\n    rollout:\n"
            "      - {from: 2026-W60, mode: live}\n",
            11,
            "[route w]: routes.0.rollout.0.from",
        ),
        (
            "  - id: t\n    path: /t\n    target: services\n",
            7,
            "[route t]: routes.0: a `target` route needs a non-empty `rollout`",
        ),
        ("  - id: b\n    path: /b\n    to: services\n    target: services\n", 7, "exactly one of `to`"),
    ],
)
def test_errors_name_file_line_and_route(route: str, line: int, expected: str) -> None:
    messages = errors_of(HEAD + route)
    assert any(m.startswith(f"routing.yaml:{line} ") and expected in m for m in messages), messages


def test_every_error_is_reported_at_once() -> None:
    text = HEAD + "  - id: a\n    path: /a\n    to: x\n  - id: b\n    path: /b\n    to: y\n"
    assert len(errors_of(text)) == 2


def test_a_route_with_a_structural_error_still_gets_its_cross_reference_errors() -> None:
    text = HEAD + (
        "  - id: a\n    path: /a/{id:nope}\n    target: nowhere\n    fallback: gone\n    colour: blue\n"
        "  - id: b\n    path: /b\n    to: y\n"
    )
    assert errors_of(text) == [
        "routing.yaml:8 [route a]: unknown parameter type 'nope' in '/a/{id:nope}' (known: str, path, int, uuid)",  # noqa: E501
        "routing.yaml:9 [route a]: target: unknown upstream 'nowhere' (defined: legacy, services)",
        "routing.yaml:10 [route a]: fallback: unknown upstream 'gone' (defined: legacy, services)",
        "routing.yaml:11 [route a]: routes.0.colour: Extra inputs are not permitted",
        "routing.yaml:12 [route b]: to: unknown upstream 'y' (defined: legacy, services)",
    ]


def test_unknown_top_level_key_and_default() -> None:
    text = HEAD.replace("default: legacy", "default: gone\nextra: 1") + "  []\n"
    messages = errors_of(text.replace("routes:\n  []", "routes: []"))
    assert any("extra: Extra inputs are not permitted" in m for m in messages)


def test_unknown_default_upstream() -> None:
    messages = errors_of(
        HEAD.replace("default: legacy", "default: gone").replace("routes:\n", "routes: []\n")
    )
    assert messages == ["routing.yaml:5: default upstream 'gone' is not defined in upstreams"]


def test_duplicate_yaml_keys_are_errors() -> None:
    messages = errors_of(HEAD.replace("routes:\n", "default: services\nroutes: []\n"))
    assert any("duplicate key 'default'" in m for m in messages)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("version: 1\nupstreams: {}\ndefault: x\n", "at least one upstream"),
        ("version: 2\nupstreams: {a: {url: 'http://h'}}\ndefault: a\n", "version"),
        ("version: 1\nupstreams: {a: {url: 'ftp://h'}}\ndefault: a\n", "http(s)://"),
        ("version: 1\nupstreams: {a: {url: 'http://h/base'}}\ndefault: a\n", "must not carry a path"),
        (
            "version: 1\ntimezone: Mars/Olympus\nupstreams: {a: {url: 'http://h'}}\ndefault: a\n",
            "unknown timezone",
        ),
        (
            "version: 1\nupstreams: {a: {url: 'http://h', timeout: {read: soon}}}\ndefault: a\n",
            "invalid duration",
        ),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("version: [1\n", "invalid YAML"),
    ],
)
def test_table_level_errors(text: str, fragment: str) -> None:
    assert any(fragment in m for m in errors_of(text))


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_table(tmp_path / "missing.yaml")


def test_durations_and_host_modes() -> None:
    text = (
        "version: 1\nupstreams:\n"
        "  a: {url: 'http://h:81', host: upstream, timeout: {connect: 250ms, read: 2m},"
        " pool: {max_connections: 8}}\n"
        "  b: {url: 'https://h', host: api.example}\n"
        "default: a\n"
    )
    table = parse_table(text)
    a, b = table.upstreams["a"], table.upstreams["b"]
    assert a.timeouts.connect == 0.25 and a.timeouts.read == 120
    assert a.host_header == "h:81" and a.max_connections == 8
    assert b.host_header == "api.example" and b.port == 443


def test_explain_lists_considered_routes() -> None:
    table = parse_table(DESIGN_SKETCH)
    decider = Decider(pins=Pins(), breakers=Breakers())
    result = explain(table, decider, "POST", "/api/settings/theme").as_dict()
    assert result["route"] == "default"
    assert result["considered"][0]["verdict"] == "method POST not allowed"
    rejected = explain(table, decider, "GET", "/api/%2e%2e/%2e%2e/etc").as_dict()
    assert rejected["error"].startswith("400")
