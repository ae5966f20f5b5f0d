"""The cutover machinery in the running gateway: phases, canary, shadow, fallback, breaker, guard."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from tests.gateway.cutover_support import ADMIN, Clock, gateway_server, sides, table, utc
from tests.support.servers import free_port

READS = """\
  - id: items
    path: /api/items
    methods: [GET]
    target: services
    fallback: legacy
    rollout:
      - {from: 2026-W49, mode: shadow}
      - {from: 2026-W50, mode: canary, percent: 10}
      - {from: 2026-W51, mode: canary, percent: 50}
      - {from: 2026-W52, mode: live}
    shadow: {learn_noise: true}
"""

WRITES = """\
  - id: items-write
    path: /api/items
    methods: [POST]
    target: services
    fallback: legacy
    rollout:
      - {from: 2026-W49, mode: live}
"""


def _wait(predicate: object, what: str) -> None:
    for _ in range(500):
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def _upstream(client: httpx.Client, url: str, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.headers["x-gateway-upstream"]


def test_each_phase_by_clock_travel_and_canary_stickiness(sqlite_url: str, tmp_path: Path) -> None:
    clock = Clock(utc(2026, 11, 20))
    with (
        sides(sqlite_url) as (legacy, target, lsrv, tsrv),
        gateway_server(tmp_path, table(lsrv.url, tsrv.url, READS), clock) as (gw, _),
    ):
        url = f"{gw.url}/api/items"
        keys = [f"key-{i}" for i in range(200)]
        with httpx.Client() as client:
            assert _upstream(client, url) == "legacy"
            clock.travel(utc(2026, 11, 30))  # W49: shadow
            assert _upstream(client, url) == "legacy"
            _wait(lambda: target.shadow_reads == 1, "the shadow request")
            clock.travel(utc(2026, 12, 7))  # W50: canary 10%
            at10 = {k: _upstream(client, url, **{"X-API-Key": k}) for k in keys}
            assert {k: _upstream(client, url, **{"X-API-Key": k}) for k in keys} == at10  # sticky
            clock.travel(utc(2026, 12, 14))  # W51: canary 50%
            at50 = {k: _upstream(client, url, **{"X-API-Key": k}) for k in keys}
            moved_back = [k for k in keys if at10[k] == "services" and at50[k] == "legacy"]
            assert moved_back == []
            assert (
                0 < sum(v == "services" for v in at10.values()) < sum(v == "services" for v in at50.values())
            )
            clock.travel(utc(2026, 12, 21))  # W52: live
            assert {_upstream(client, url, **{"X-API-Key": k}) for k in keys} == {"services"}


def test_shadow_never_delays_the_client(sqlite_url: str, tmp_path: Path) -> None:
    clock = Clock(utc(2026, 12, 1))
    with (
        sides(sqlite_url) as (legacy, target, lsrv, tsrv),
        gateway_server(tmp_path, table(lsrv.url, tsrv.url, READS), clock) as (gw, gateway),
    ):
        target.gate = threading.Event()  # the target holds every answer until the test releases it
        with httpx.Client() as client:
            response = client.get(f"{gw.url}/api/items")
            assert response.status_code == 200 and response.headers["x-side"] == "legacy"
            # the client has legacy's full answer while the target is still working on its copy
            _wait(target.entered.is_set, "the target to receive the shadow request")
            assert target.in_progress == 1
            target.gate.set()
            _wait(lambda: gateway.cutover.diffs.route("items").compared == 1, "the comparison")
            diffs = client.get(
                f"{gw.url}/_gateway/api/diffs", params={"route": "items"}, headers=ADMIN
            ).json()
            assert diffs["routes"]["items"]["differing"] == 0


def test_shadow_diff_and_noise_suppression(sqlite_url: str, tmp_path: Path) -> None:
    clock = Clock(utc(2026, 12, 1))
    with (
        sides(sqlite_url) as (legacy, target, lsrv, tsrv),
        gateway_server(tmp_path, table(lsrv.url, tsrv.url, READS), clock) as (gw, gateway),
    ):
        legacy.noisy = target.noisy = True  # a per-call counter: differs between any two answers
        with httpx.Client() as client:
            client.get(f"{gw.url}/api/items")
            _wait(lambda: gateway.cutover.diffs.route("items").compared == 1, "the first comparison")
            target.title = "Hunting High and Low"
            client.get(f"{gw.url}/api/items")
            _wait(lambda: gateway.cutover.diffs.route("items").compared == 2, "the second comparison")
            data = client.get(f"{gw.url}/_gateway/api/diffs?route=items", headers=ADMIN).json()
            metrics = client.get(f"{gw.url}/_gateway/metrics", headers=ADMIN).text
    assert 'figway_shadow_requests_total{result="different",route="items"} 1.0' in metrics
    assert 'figway_shadow_requests_total{result="same",route="items"} 1.0' in metrics
    summary = data["routes"]["items"]
    assert summary["noise"] == ["body.generated"]
    assert (summary["compared"], summary["differing"], summary["diff_rate"]) == (2, 1, 0.5)
    [diff] = data["diffs"]
    assert diff["differences"] == [
        {"path": "body.items[0].title", "legacy": "Take On Me", "target": "Hunting High and Low"}
    ]


def test_write_that_never_reached_the_target_goes_to_legacy_once(sqlite_url: str, tmp_path: Path) -> None:
    clock = Clock(utc(2026, 12, 1))
    down = f"http://127.0.0.1:{free_port()}"
    with (
        sides(sqlite_url, target_running=False) as (legacy, target, lsrv, _),
        gateway_server(tmp_path, table(lsrv.url, down, WRITES), clock) as (gw, gateway),
    ):
        with httpx.Client() as client:
            response = client.post(f"{gw.url}/api/items", json={"title": "x"})
        assert response.status_code == 201 and response.json()["side"] == "legacy"
        assert (legacy.rows(), target.rows()) == (1, 0)
        assert gateway.cutover.fallbacks["items-write"] == 1


def test_write_that_reached_the_target_is_never_resent(sqlite_url: str, tmp_path: Path) -> None:
    clock = Clock(utc(2026, 12, 1))
    with (
        sides(sqlite_url) as (legacy, target, lsrv, tsrv),
        gateway_server(tmp_path, table(lsrv.url, tsrv.url, WRITES), clock) as (gw, _),
    ):
        target.write_status = 503
        with httpx.Client() as client:
            failed = client.post(f"{gw.url}/api/items", json={"title": "x"})
            assert failed.status_code == 503 and failed.headers["x-gateway-upstream"] == "services"
            target.write_status, target.write_sleep = 201, 2.0  # writes, then answers after the read timeout
            timed_out = client.post(f"{gw.url}/api/items", json={"title": "y"})
            assert timed_out.status_code == 504
        assert (legacy.rows(), target.rows()) == (0, 2)


def test_safe_request_falls_back_on_5xx_and_timeout(sqlite_url: str, tmp_path: Path) -> None:
    clock = Clock(utc(2026, 12, 22))  # live
    with (
        sides(sqlite_url) as (legacy, target, lsrv, tsrv),
        gateway_server(tmp_path, table(lsrv.url, tsrv.url, READS), clock) as (gw, gateway),
    ):
        with httpx.Client() as client:
            target.status = 500
            answer = client.get(f"{gw.url}/api/items")
            assert answer.status_code == 200 and answer.headers["x-side"] == "legacy"
            assert answer.headers["x-gateway-upstream"] == "legacy"
            target.status, target.sleep = 200, 2.0
            answer = client.get(f"{gw.url}/api/items")
            assert answer.status_code == 200 and answer.headers["x-side"] == "legacy"
            target.sleep = 0
            assert client.get(f"{gw.url}/api/items").headers["x-side"] == "services"
            metrics = client.get(f"{gw.url}/_gateway/metrics", headers=ADMIN).text
        assert (target.reads, legacy.reads) == (3, 2)
        assert gateway.cutover.fallbacks["items"] == 2
        assert 'figway_fallbacks_total{route="items"} 2.0' in metrics
        assert 'figway_cutover_side_requests_total{route="items",side="target"} 3.0' in metrics
        assert 'figway_cutover_side_errors_total{route="items",side="target"} 2.0' in metrics
        assert 'figway_breaker_open{upstream="services"} 0.0' in metrics


def test_open_breaker_sends_requests_to_legacy_without_trying(sqlite_url: str, tmp_path: Path) -> None:
    clock = Clock(utc(2026, 12, 22))
    routes = READS.replace("    shadow: {learn_noise: true}\n", "")
    with (
        sides(sqlite_url) as (legacy, target, lsrv, tsrv),
        gateway_server(
            tmp_path, table(lsrv.url, tsrv.url, routes), clock, breaker_failures=3, breaker_reset=600
        ) as (gw, gateway),
    ):
        target.status = 503
        with httpx.Client() as client:
            for _ in range(3):
                assert client.get(f"{gw.url}/api/items").headers["x-side"] == "legacy"  # fallback
            assert target.reads == 3
            assert gateway.cutover.breakers.get("services").state == "open"
            for _ in range(5):
                assert client.get(f"{gw.url}/api/items").headers["x-side"] == "legacy"
            assert target.reads == 3  # never tried while open
            status = client.get(f"{gw.url}/_gateway/api/status", headers=ADMIN).json()
        assert status["upstreams"]["services"]["breaker"]["state"] == "open"


def test_health_check_opens_the_breaker(sqlite_url: str, tmp_path: Path) -> None:
    clock = Clock(utc(2026, 12, 22))
    with sides(sqlite_url) as (legacy, target, lsrv, tsrv):
        target.health_status = 503
        text = table(lsrv.url, tsrv.url, READS, target_extra=", health: /healthz")
        with gateway_server(tmp_path, text, clock, health_interval=0.05) as (gw, gateway):
            _wait(lambda: gateway.cutover.breakers.get("services").state == "open", "the breaker to open")
            with httpx.Client() as client:
                assert client.get(f"{gw.url}/api/items").headers["x-side"] == "legacy"
                assert target.reads == 0
                target.health_status = 200
                _wait(
                    lambda: gateway.cutover.breakers.get("services").state == "closed", "the breaker to close"
                )
                assert client.get(f"{gw.url}/api/items").headers["x-side"] == "services"
                upstreams = client.get(f"{gw.url}/_gateway/api/upstreams", headers=ADMIN).json()["upstreams"]
        assert upstreams["services"]["health"]["healthy"] is True


def test_guard_pins_the_route_across_restarts_until_released(sqlite_url: str, tmp_path: Path) -> None:
    clock = Clock(utc(2026, 12, 22))
    routes = READS.replace("    fallback: legacy\n", "").replace(
        "    shadow: {learn_noise: true}\n",
        "    guard: {max_error_rate: 0.2, min_requests: 10, window: 60s}\n",
    )
    with sides(sqlite_url) as (legacy, target, lsrv, tsrv):
        text = table(lsrv.url, tsrv.url, routes)
        with (
            gateway_server(tmp_path, text, clock, breaker_failures=1000) as (gw, _),
            httpx.Client() as client,
        ):
            target.status = 500
            for _ in range(10):
                assert client.get(f"{gw.url}/api/items").status_code == 500
            answer = client.get(f"{gw.url}/api/items")
            assert answer.status_code == 200 and answer.headers["x-side"] == "legacy"
            state = client.get(f"{gw.url}/_gateway/api/cutover", headers=ADMIN).json()
            [row] = state["routes"]
            assert row["pinned"]["reason"].startswith("error rate 100.0% > 20.0%")
        target.status = 200
        with gateway_server(tmp_path, text, clock) as (gw, _), httpx.Client() as client:
            assert client.get(f"{gw.url}/api/items").headers["x-side"] == "legacy"  # still pinned
            assert client.post(f"{gw.url}/_gateway/api/routes/items/release").status_code == 401
            released = client.post(f"{gw.url}/_gateway/api/routes/items/release", headers=ADMIN).json()
            assert released == {"route": "items", "released": True}
            assert client.get(f"{gw.url}/api/items").headers["x-side"] == "services"
            pinned = client.post(
                f"{gw.url}/_gateway/api/routes/items/pin", headers=ADMIN, json={"reason": "maintenance"}
            ).json()
            assert pinned["pinned"]["by"] == "operator"
            assert client.get(f"{gw.url}/api/items").headers["x-side"] == "legacy"
            assert client.post(f"{gw.url}/_gateway/api/routes/nope/pin", headers=ADMIN).status_code == 404
            metrics = client.get(f"{gw.url}/_gateway/metrics", headers=ADMIN).text
            assert 'figway_route_pinned{route="items"} 1.0' in metrics


def test_override_header_needs_the_admin_token(sqlite_url: str, tmp_path: Path) -> None:
    clock = Clock(utc(2026, 11, 20))  # legacy phase
    with (
        sides(sqlite_url) as (legacy, target, lsrv, tsrv),
        gateway_server(tmp_path, table(lsrv.url, tsrv.url, READS), clock) as (gw, _),
        httpx.Client() as client,
    ):
        assert _upstream(client, f"{gw.url}/api/items", **{"X-Figway-Target": "target"}) == "legacy"
        forced = {"X-Figway-Target": "target", "X-Figway-Token": "admin-secret"}
        assert _upstream(client, f"{gw.url}/api/items", **forced) == "services"
        assert target.last_headers["x-figway-target"] == "target"
        assert "x-figway-token" not in target.last_headers  # the admin token never leaves the gateway


def test_reload_records_change_history(sqlite_url: str, tmp_path: Path) -> None:
    clock = Clock(utc(2026, 12, 8))
    with sides(sqlite_url) as (legacy, target, lsrv, tsrv):
        text = table(lsrv.url, tsrv.url, READS)
        with gateway_server(tmp_path, text, clock) as (gw, _), httpx.Client() as client:
            (tmp_path / "routing.yaml").write_text(
                text.replace("percent: 10", "percent: 20") + WRITES.replace("items-write", "items-create")
            )
            assert client.post(f"{gw.url}/_gateway/api/reload", headers=ADMIN).json()["ok"] is True
            (tmp_path / "routing.yaml").write_text("version: 1\nroutes: [\n")
            assert client.post(f"{gw.url}/_gateway/api/reload", headers=ADMIN).status_code == 422
            history = client.get(f"{gw.url}/_gateway/api/history", headers=ADMIN).json()["reloads"]
    failed, applied, start = history[:3]
    assert failed["ok"] is False and failed["error"]
    assert applied["source"] == "api"
    assert {(c["kind"], c["route"], c["detail"]) for c in applied["changes"]} == {
        ("mode", "items", "canary 10% -> canary 20%"),
        ("added", "items-create", "/api/items [POST] live"),
    }
    assert start["source"] == "start"


def test_coverage_by_traffic_share_from_a_running_gateway(sqlite_url: str, tmp_path: Path) -> None:
    import argparse
    import io
    import json

    from gateway import cutover_cli

    clock = Clock(utc(2026, 12, 22))
    endpoints = tmp_path / "endpoints.json"
    endpoints.write_text(
        json.dumps(
            [{"rule": "/api/items", "methods": ["GET", "POST"]}, {"rule": "/other", "methods": ["GET"]}]
        )
    )
    with (
        sides(sqlite_url) as (legacy, target, lsrv, tsrv),
        gateway_server(tmp_path, table(lsrv.url, tsrv.url, READS + WRITES), clock) as (gw, _),
        httpx.Client() as client,
    ):
        for _ in range(6):
            client.get(f"{gw.url}/api/items")
        for _ in range(2):
            client.post(f"{gw.url}/api/items", json={})
        client.get(f"{gw.url}/other")
        client.post(f"{gw.url}/_gateway/api/routes/items-write/pin", headers=ADMIN)
        parser = argparse.ArgumentParser()
        cutover_cli.add_commands(parser.add_subparsers(dest="command"), "routing.yaml")
        args = parser.parse_args(
            ["coverage", "--endpoints", str(endpoints), "--metrics", f"{gw.url}/_gateway/metrics"]
            + ["--gateway", gw.url, "--at", "2026-W52", "--json"]
        )
        out = io.StringIO()
        assert cutover_cli.cmd_coverage(args, str(tmp_path / "routing.yaml"), "x", "admin-secret", out) == 0
        unauthorised = io.StringIO()
        assert cutover_cli.cmd_coverage(args, str(tmp_path / "routing.yaml"), "x", "wrong", unauthorised) == 1
    report = json.loads(out.getvalue())
    states = {(e["method"], e["rule"]): e["state"] for e in report["endpoints"]}
    assert states == {
        ("GET", "/api/items"): "live",
        ("POST", "/api/items"): "pinned back",
        ("GET", "/other"): "not migrated",
    }
    traffic = report["totals"]["traffic"]
    assert traffic["live"] == 6 / 9 and traffic["pinned back"] == 2 / 9 and traffic["not migrated"] == 1 / 9
