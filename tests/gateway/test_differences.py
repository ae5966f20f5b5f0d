from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.diff import DiffConfig, Sample
from gateway.differences import Mirrored, Registry, load_registry, parse_registry, rule_regex
from gateway.errors import ConfigError
from gateway.shadow import DiffStore, ShadowJob, ShadowMirror
from tests.contract.registry import load as load_contract_registry
from tests.support.servers import ROOT, uvicorn_thread

REGISTRY = """
version: 1
differences:
  - id: no-leak
    method: "*"
    path: /api/<path:rest>
    match:
      legacy: {status: [500], body_regex: "Traceback|Error"}
      services: {status: [500]}
      allow: [body, headers.content-length]
  - id: stray-bearer
    method: GET
    path: /auth/check
    match:
      request: {headers_present: [authorization], as_role: [USER, ADMIN]}
      allow: [status, headers.vary]
  - id: first-value
    method: GET
    path: /api/videos/<int:video_id>
    match:
      request: {query_present: [force], cookie_repeated: [mvidarr_session]}
      allow: [content-type]
"""


def _mirrored(
    url: str, legacy: int = 500, target: int = 500, headers: tuple[tuple[str, str], ...] = ()
) -> Mirrored:
    return Mirrored("GET", url, headers, legacy, b'{"error": "OperationalError"}', target, b'{"error":"x"}')


def test_the_gateway_reads_every_entry_of_the_projects_registry() -> None:
    registry = load_registry(ROOT / "differences.yaml")
    assert [entry.id for entry in registry.entries] == load_contract_registry().ids()
    assert len(load_registry(ROOT / "no-such-file.yaml")) == 0
    assert len(load_registry(None)) == 0


def test_rules_match_as_werkzeug_routes_do() -> None:
    assert rule_regex("/api/videos/<int:video_id>").match("/api/videos/12")
    assert not rule_regex("/api/videos/<int:video_id>").match("/api/videos/x")
    assert rule_regex("/api/<path:rest>").match("/api/a/b/c")
    assert rule_regex("/auth/<what>").match("/auth/check/") and not rule_regex("/auth/<what>").match(
        "/auth/a/b"
    )
    with pytest.raises(ValueError, match="unknown converter"):
        rule_regex("/x/<nope:y>")


def test_an_entry_excuses_only_the_parts_it_allows_and_only_when_services_answer_as_it_says() -> None:
    registry = parse_registry(REGISTRY)
    paths = ["status", "body.error", "bytes.layout", "headers.content-type"]
    kept, used = registry.excuse(_mirrored("http://svc/api/videos/1"), paths)
    assert ([paths[i] for i in kept], used) == (["status", "headers.content-type"], ["no-leak"])
    kept, used = registry.excuse(_mirrored("http://svc/api/videos/1", target=200), paths)
    assert (len(kept), used) == (4, [])  # services did not answer the entry's 500: nothing excused
    kept, used = registry.excuse(_mirrored("http://svc/other", legacy=500), paths)
    assert used == []
    # legacy (werkzeug) merges repeated slashes before matching a rule: the entry covers those too
    kept, used = registry.excuse(_mirrored("http://svc/api//videos/1"), paths)
    assert used == ["no-leak"]


def test_request_predicates_read_headers_query_cookies_and_credentials() -> None:
    registry = parse_registry(REGISTRY)
    bearer = (("Authorization", "Bearer x"),)
    kept, used = registry.excuse(_mirrored("http://svc/auth/check", 200, 401, bearer), ["status"])
    assert (kept, used) == ([], ["stray-bearer"])
    assert registry.excuse(_mirrored("http://svc/auth/check", 200, 401), ["status"])[1] == []
    cookies = (("cookie", "mvidarr_session=a; mvidarr_session=b"),)
    found = registry.excuse(
        _mirrored("http://svc/api/videos/5?force=false&force=true", 200, 200, cookies),
        ["headers.content-type"],
    )
    assert found == ([], ["first-value"])
    one_cookie = (("cookie", "mvidarr_session=a"),)
    assert registry.excuse(_mirrored("http://svc/api/videos/5?force=1", 200, 200, one_cookie), ["x"])[1] == []


def test_a_malformed_registry_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "differences.yaml"
    bad.write_text(
        "version: 1\ndifferences:\n  - id: x\n    method: GET\n    path: nope\n    match: {allow: []}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_registry(bad)
    assert all(issue.file == str(bad) for issue in caught.value.issues)
    messages = " | ".join(issue.message for issue in caught.value.issues)
    assert "differences.0.path" in messages and "differences.0.match.allow" in messages
    with pytest.raises(ConfigError, match="invalid YAML"):
        parse_registry("version: [")


async def test_the_shadow_diff_counts_no_difference_the_registry_allows() -> None:
    async def broken(request: Request) -> JSONResponse:
        return JSONResponse({"error": "Internal server error"}, status_code=500)

    with uvicorn_thread(Starlette(routes=[Route("/api/videos/1", broken)])) as server:
        store = DiffStore()
        mirror = ShadowMirror(store, workers=1, registry=parse_registry(REGISTRY))
        mirror.start()
        legacy = Sample(500, "application/json", b'{"error": "OperationalError: no such table"}\n', {})
        job = ShadowJob(
            route_id="videos",
            request_id="r1",
            method="GET",
            target_url=f"{server.url}/api/videos/1",
            headers=(),
            legacy=legacy,
            config=DiffConfig(),
        )
        try:
            assert mirror.submit(job)
            await mirror.drain()
        finally:
            await mirror.aclose()
    assert (store.route("videos").compared, store.route("videos").differing) == (1, 0)
    assert len(Registry()) == 0
