"""Every legacy endpoint that routing.yaml sends to services is served by services (issue 14 class 6).

`POST /admin/api/users/<id>/role` was routed to services by `admin-write` while services had no
such route: a 404 from the week it flipped. This reads the table itself (not the gateway's code),
takes each legacy rule from legacy's url_map, and asks services' /openapi.json for it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from legacy_flask.app import create_app as create_legacy_app
from services.app import create_app as create_services_app
from services.settings import Settings
from tests.contract.fuzz_requests import legacy_rules

ROUTING = Path(__file__).resolve().parents[2] / "routing.yaml"


def _pattern(path: str) -> re.Pattern[str]:
    def piece(match: re.Match[str]) -> str:
        kind = match.group(2)
        return {"int": r"[0-9]+", "path": r".+"}.get(kind or "", r"[^/]+")

    return re.compile(
        re.sub(r"\{(\w+)(?::(\w+))?\}", piece, re.escape(path).replace(r"\{", "{").replace(r"\}", "}")) + "$"
    )


def _sample(rule: str) -> str:
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: "1" if m.group(1) == "int" else "x", rule)


def _routed_to_services(route: dict[str, Any]) -> bool:
    if route.get("to") == "services":
        return True
    rollout = route.get("rollout") or []
    return route.get("target") == "services" and any(step.get("mode") != "legacy" for step in rollout)


def test_every_legacy_route_sent_to_services_exists_there(sqlite_url: str) -> None:
    table = yaml.safe_load(ROUTING.read_text())
    routes = [r for r in table["routes"] if _routed_to_services(r)]
    legacy = create_legacy_app({"DATABASE_URL": sqlite_url, "TESTING": True})
    services = create_services_app(Settings(database_url=sqlite_url.replace("pysqlite", "aiosqlite")))
    served = {path: {m.upper() for m in ops} for path, ops in services.openapi()["paths"].items()}
    sent, missing = [], []
    for rule, methods in legacy_rules(legacy):
        for method in methods:
            sample = _sample(rule)
            if any(method in r["methods"] and _pattern(r["path"]).match(sample) for r in routes):
                openapi_path = re.sub(r"<(?:(\w+):)?(\w+)>", r"{\2}", rule)
                sent.append(f"{method} {rule}")
                if method not in served.get(openapi_path, set()):
                    missing.append(f"{method} {rule}")
    assert len(sent) >= 35, sent  # the table routes (nearly) every legacy endpoint by now
    assert not missing, f"routing.yaml sends these to services, which does not serve them: {missing}"
    assert "POST /admin/api/users/<int:user_id>/role" in sent
