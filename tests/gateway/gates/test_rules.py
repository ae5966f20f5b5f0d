"""The `requires:` of a phase: defaults, what `check` refuses (with file, line and route), and the
evidence fingerprint that decides when old evidence stops counting."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.errors import ConfigError
from gateway.gates.evidence import judge
from gateway.gates.schema import DEFAULT_MAX_DIFF_RATE, DEFAULT_MIN_CANARY_REQUESTS, DEFAULT_MIN_COMPARED
from gateway.loader import parse_table

HEAD = """version: 1
upstreams:
  legacy: {url: "http://127.0.0.1:5000"}
  services: {url: "http://127.0.0.1:8001"}
default: legacy
"""


def _route(rollout: str, path: str = "/a", rid: str = "a", methods: str = "[GET]") -> str:
    return f"""  - id: {rid}
    path: {path}
    methods: {methods}
    target: services
    rollout:
{rollout}"""


def test_phases_after_shadow_and_canary_wait_for_the_default_evidence() -> None:
    table = parse_table(
        HEAD
        + "routes:\n"
        + _route(
            "      - {from: 2026-W50, mode: shadow}\n"
            "      - {from: 2026-W51, mode: canary, percent: 10}\n"
            "      - {from: 2026-W52, mode: canary, percent: 5}\n"
            "      - {from: 2026-W53, mode: live}\n"
        )
    )
    gates = table.routes[0].gates
    assert [g.label for g in gates] == ["canary 10%", "live"]  # 10% -> 5% moves no traffic over
    assert gates[0].shadow is not None and gates[0].canary is None and gates[0].defaulted
    assert gates[0].shadow.min_compared == DEFAULT_MIN_COMPARED
    assert gates[0].shadow.max_diff_rate == DEFAULT_MAX_DIFF_RATE
    assert gates[1].canary is not None and gates[1].canary.min_requests == DEFAULT_MIN_CANARY_REQUESTS


def test_a_first_phase_and_requires_none_flip_on_their_date_alone() -> None:
    table = parse_table(
        HEAD
        + "routes:\n"
        + _route(
            "      - {from: 2026-W50, mode: canary, percent: 10}\n"
            "      - {from: 2026-W51, mode: live, requires: none}\n"
        )
    )
    assert table.routes[0].gates == ()
    assert table.routes[0].evidence == ""


def test_table_defaults_and_explicit_requirements_merge() -> None:
    table = parse_table(
        HEAD
        + "evidence: {shadow: {min_compared: 50, max_diff_rate: 2%}}\n"
        + "routes:\n"
        + _route(
            "      - {from: 2026-W50, mode: shadow}\n"
            "      - {from: 2026-W51, mode: live, requires: {shadow: {min_compared: 7}}}\n"
        )
    )
    gate = table.routes[0].gates[0]
    assert gate.shadow is not None
    assert (gate.shadow.min_compared, gate.shadow.max_diff_rate, gate.defaulted) == (7, 0.02, False)


def test_check_names_every_requirement_that_could_never_be_met(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        HEAD
        + "routes:\n"
        + _route(
            "      - {from: 2026-W50, mode: canary, percent: 10, requires: {shadow: {}}}\n"
            "      - {from: 2026-W51, mode: shadow, requires: {canary: {}}}\n"
        )
        + _route("      - {from: 2026-W52, mode: live, requires: {}}\n", path="/b", rid="b")
    )
    with pytest.raises(ConfigError) as caught:
        parse_table(text, source="t.yaml")
    messages = [str(issue) for issue in caught.value.issues]
    assert any(
        "t.yaml:12 [route a]: rollout[0]: requires shadow evidence but no phase before it" in m
        for m in messages
    )
    assert any("t.yaml:13 [route a]: rollout[1]: `requires` on a shadow phase" in m for m in messages)
    assert any("name shadow and/or canary evidence" in m for m in messages)
    path = tmp_path / "routing.yaml"
    path.write_text(text)
    assert main(["check", str(path)]) == 1
    assert "3 error(s)" in capsys.readouterr().out


def test_moving_dates_keeps_the_evidence_and_changing_the_target_resets_it() -> None:
    def key(rollout_from: str, target: str = "services", path: str = "/a") -> str:
        text = HEAD.replace("default: legacy", "  other: {url: 'http://127.0.0.1:9'}\ndefault: legacy")
        table = parse_table(
            text
            + "routes:\n"
            + _route(
                f"      - {{from: {rollout_from}, mode: shadow}}\n      - {{from: 2027-W10, mode: live}}\n",
                path=path,
            ).replace("target: services", f"target: {target}")
        )
        return table.routes[0].evidence

    assert key("2026-W50") == key("2026-W40")
    assert key("2026-W50") != key("2026-W50", target="other")
    assert key("2026-W50") != key("2026-W50", path="/b")


def test_canary_evidence_compares_the_target_with_legacy_over_the_same_weeks() -> None:
    table = parse_table(
        HEAD
        + "routes:\n"
        + _route(
            "      - {from: 2026-W50, mode: canary, percent: 10}\n"
            "      - {from: 2026-W51, mode: live,\n"
            "         requires: {canary: {min_requests: 10, error_rate_margin: 1%}}}\n"
        )
    )
    gate = table.routes[0].gates[0]
    good = {
        "canary.target.requests": 10,
        "canary.target.h10": 10,
        "canary.legacy.requests": 90,
        "canary.legacy.h10": 90,
    }
    assert judge(gate, good).met
    failing = {**good, "canary.target.errors": 2}
    verdict = judge(gate, failing)
    assert not verdict.met and "target error rate 20.00% above 1.00%" in verdict.missing
    slow = {**good, "canary.target.h10": 0, "canary.target.h40": 10}
    assert "target p99" in judge(gate, slow).missing
    assert "more canary requests" in judge(gate, {"canary.legacy.requests": 50}).missing
