from __future__ import annotations

import re
from pathlib import Path

from gateway import routing_schema as routing
from gateway.gates.schema import CanaryEvidence, ShadowEvidence
from gateway.ratelimit.policy import RateLimit
from gateway.settings import GatewaySettings
from services.settings import Settings
from tools import configdoc

ROOT = Path(__file__).resolve().parents[2]


def test_committed_configuration_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == configdoc.render(), "docs/configuration.md is stale: run python -m tools.configdoc"


def test_check_mode_reports_a_stale_file(tmp_path: Path) -> None:
    target = tmp_path / "configuration.md"
    assert configdoc.main(["--check", "--output", str(target)]) == 1
    assert configdoc.main(["--output", str(target)]) == 0
    assert configdoc.main(["--check", "--output", str(target)]) == 0


def test_every_setting_is_documented() -> None:
    text = configdoc.render()
    for name in GatewaySettings.model_fields:
        assert f"`GATEWAY_{name.upper()}`" in text
    for name, field in Settings.model_fields.items():
        choices = getattr(field.validation_alias, "choices", None)
        assert f"`{(choices[0] if choices else name).upper()}`" in text
    assert "`GATEWAY_UPSTREAM_<NAME>_URL`" in text
    assert "| `from` |" in text  # routing keys by their YAML name


def test_supplementary_meanings_name_existing_fields() -> None:
    models = {
        model.__name__: model
        for model in (
            GatewaySettings,
            Settings,
            routing.RoutingTable,
            routing.Upstream,
            routing.Timeouts,
            routing.PoolLimits,
            routing.Route,
            routing.Phase,
            routing.GuardRule,
            routing.Shadow,
            ShadowEvidence,
            CanaryEvidence,
            RateLimit,
        )
    }
    for owner, field in configdoc.MEANINGS:
        assert field in models[owner].model_fields, (owner, field)


def test_every_variable_the_legacy_app_reads_is_documented() -> None:
    text = configdoc.render()
    read: set[str] = set()
    for path in (ROOT / "legacy_flask").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"environ\.get\(\s*\"([A-Z0-9_]+)\"", source))
        read |= set(re.findall(r"\bsetting\(\s*\"([A-Z0-9_]+)\"", source))
        read |= set(re.findall(r"config\.get\(\s*\"([A-Z0-9_]+)\"\)\s*or\s*os\.environ", source))
    assert read, "the pattern no longer finds the legacy app's variables"
    missing = sorted(name for name in read if f"`{name}`" not in text)
    assert not missing, f"legacy reads {missing}: add them to tools/configdoc.py LEGACY_EXTRA"
