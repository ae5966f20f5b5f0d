from __future__ import annotations

import io
import json
from pathlib import Path

from gateway.cli import main
from tests.gateway.test_loader import DESIGN_SKETCH


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "routing.yaml"
    path.write_text(text)
    return str(path)


def test_check_valid_file_prints_one_line_summary(tmp_path: Path) -> None:
    code, out = run("check", write(tmp_path, DESIGN_SKETCH))
    assert code == 0
    assert out.count("\n") == 1
    assert "OK, 2 route(s), 2 upstream(s), default legacy" in out


def test_check_invalid_file_prints_every_error_and_exits_1(tmp_path: Path) -> None:
    broken = DESIGN_SKETCH.replace("to: services", "to: nowhere").replace("percent: 10", "percent: 0")
    path = write(tmp_path, broken)
    code, out = run("check", path)
    assert code == 1
    assert f"{path}:" in out
    assert "2 error(s)" in out


def test_check_json(tmp_path: Path) -> None:
    code, out = run("check", write(tmp_path, DESIGN_SKETCH.replace("to: services", "to: gone")), "--json")
    body = json.loads(out)
    assert code == 1
    assert body["ok"] is False
    assert body["errors"][0]["route"] == "settings"
    assert body["errors"][0]["line"] == 8
    code, out = run("check", write(tmp_path, DESIGN_SKETCH), "--json")
    assert code == 0 and json.loads(out)["routes"] == 2


def test_check_defaults_to_environment_file(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("GATEWAY_ROUTING_FILE", write(tmp_path, DESIGN_SKETCH))
    assert run("check")[0] == 0


def test_explain_tells_route_mode_upstream_and_why(tmp_path: Path) -> None:
    path = write(tmp_path, DESIGN_SKETCH)
    code, out = run("explain", "--config", path, "GET", "/api/videos/", "--at", "2026-W52")
    assert code == 0
    assert "route videos-list, mode live, upstream services" in out
    assert "considered videos-list /api/videos/ [GET,HEAD]: chosen" in out
    code, out = run("explain", "--config", path, "GET", "/api/videos/", "--at", "2026-12-08T12:00")
    assert "mode canary, upstream legacy" in out
    assert "next flip: 2026-12-14T00:00:00+00:00" in out


def test_explain_unmatched_and_rejected_paths(tmp_path: Path) -> None:
    path = write(tmp_path, DESIGN_SKETCH)
    code, out = run("explain", "--config", path, "DELETE", "/nothing/here")
    assert code == 0
    assert "route default, mode legacy, upstream legacy" in out
    assert "no route template matches" in out
    code, out = run("explain", "--config", path, "GET", "/a/%2e%2e/%2e%2e")
    assert code == 1 and "rejected" in out


def test_explain_json(tmp_path: Path) -> None:
    path = write(tmp_path, DESIGN_SKETCH)
    code, out = run("explain", "--config", path, "PUT", "/api/settings/theme", "--json")
    body = json.loads(out)
    assert code == 0
    assert (body["route"], body["mode"], body["upstream"]) == ("settings", "live", "services")
    assert body["considered"][0]["verdict"].startswith("chosen")


def test_explain_bad_when_and_bad_file(tmp_path: Path) -> None:
    path = write(tmp_path, DESIGN_SKETCH)
    assert run("explain", "--config", path, "GET", "/", "--at", "someday")[0] == 2
    assert run("explain", "--config", str(tmp_path / "missing.yaml"), "GET", "/")[0] == 1


def test_serve_refuses_an_invalid_table(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\n")
    assert run("serve", "--config", path)[0] == 1
