"""Hot reload: API, file watch and SIGHUP; invalid tables never replace the last good one."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx

from tests.gateway.proxy_support import gateway_server, table_yaml, upstream_server
from tests.support.servers import free_port, python_module, subprocess_server


def routes_to(upstream: str) -> str:
    return f"  - id: moving\n    path: /api/moving\n    methods: [GET]\n    to: {upstream}\n"


INVALID = [
    "version: 1\nupstreams: {}\n",
    "this: [is not\n",
    "version: 1\nupstreams:\n  legacy: {url: 'http://x'}\ndefault: legacy\n"
    "routes:\n  - id: a\n    path: /a/{b:float}\n    to: legacy\n",
]


def test_100_reloads_under_load_drop_no_request_and_keep_last_good_table(tmp_path: Path) -> None:
    with upstream_server("legacy") as (legacy, _), upstream_server("services") as (services, _):
        ups = {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}
        valid = [table_yaml(ups, routes_to("services")), table_yaml(ups, routes_to("legacy"))]
        with gateway_server(tmp_path, valid[1]) as (gateway, app):
            routing = tmp_path / "routing.yaml"
            stop = threading.Event()
            failures: list[str] = []
            served = [0]

            def load() -> None:
                with httpx.Client(base_url=gateway.url, timeout=10) as client:
                    while not stop.is_set():
                        for path in ("/api/moving", "/other"):
                            try:
                                response = client.get(path)
                                if response.status_code != 200:
                                    failures.append(f"{path}: {response.status_code}")
                            except httpx.HTTPError as exc:
                                failures.append(f"{path}: {exc!r}")
                            served[0] += 1

            workers = [threading.Thread(target=load) for _ in range(2)]
            for worker in workers:
                worker.start()
            results = []
            last_good = ""
            try:
                with httpx.Client(base_url=gateway.url, timeout=30) as admin:
                    for index in range(100):
                        text = (
                            valid[(index // 2) % 2]
                            if index % 2 == 0
                            else INVALID[(index // 2) % len(INVALID)]
                        )
                        routing.write_text(text)
                        response = admin.post("/_gateway/api/reload")
                        results.append(response.status_code)
                        if index % 2 == 0:
                            last_good = response.json()["sha256"]
                    status = admin.get("/_gateway/api/status").json()
                    metrics = admin.get("/_gateway/metrics").text
            finally:
                stop.set()
                for worker in workers:
                    worker.join()
    assert failures == []
    assert served[0] > 100
    assert results == [200, 422] * 50
    assert status["table"]["sha256"] == last_good == app.tables.table.sha256
    assert status["last_reload"]["ok"] is False
    assert status["last_reload"]["errors"]
    assert 'figway_reloads_total{result="applied"} 50.0' in metrics
    assert 'figway_reloads_total{result="failed"} 50.0' in metrics


def test_in_flight_request_finishes_on_the_table_it_started_with(tmp_path: Path) -> None:
    with upstream_server("legacy") as (legacy, legacy_state), upstream_server("services") as (services, _):
        ups = {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}
        slow_route = "  - id: slow\n    path: /slow\n    to: legacy\n"
        with gateway_server(tmp_path, table_yaml(ups, slow_route)) as (gateway, app):
            result: dict[str, httpx.Response] = {}
            thread = threading.Thread(
                target=lambda: result.setdefault("r", httpx.get(f"{gateway.url}/slow?s=1", timeout=10))
            )
            thread.start()
            assert legacy_state.slow_started.wait(10)
            (tmp_path / "routing.yaml").write_text(table_yaml(ups, slow_route.replace("legacy", "services")))
            assert httpx.post(f"{gateway.url}/_gateway/api/reload").status_code == 200
            thread.join()
            after = httpx.get(f"{gateway.url}/echo/slow-not", timeout=10)
    assert result["r"].status_code == 200
    assert result["r"].headers["x-gateway-upstream"] == "legacy"
    assert app.tables.table.routes[0].target == "services"
    assert after.status_code == 200


def test_file_change_is_picked_up_by_the_watcher(tmp_path: Path) -> None:
    with upstream_server("legacy") as (legacy, _), upstream_server("services") as (services, _):
        ups = {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}
        with gateway_server(tmp_path, table_yaml(ups, routes_to("legacy")), watch=True) as (gateway, app):
            time.sleep(0.3)  # let the watcher start
            (tmp_path / "routing.yaml").write_text(table_yaml(ups, routes_to("services")))
            deadline = time.monotonic() + 15
            upstream = "legacy"
            while time.monotonic() < deadline and upstream != "services":
                upstream = httpx.get(f"{gateway.url}/api/moving").headers["x-gateway-upstream"]
                time.sleep(0.1)
    assert upstream == "services"
    assert app.reloader.last is not None and app.reloader.last.trigger == "file"


def test_sighup_reloads_the_serving_process(tmp_path: Path) -> None:
    with upstream_server("legacy") as (legacy, _), upstream_server("services") as (services, _):
        ups = {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}
        routing = tmp_path / "routing.yaml"
        routing.write_text(table_yaml(ups, routes_to("legacy")))
        port = free_port()
        env = {
            "GATEWAY_ROUTING_FILE": str(routing),
            "GATEWAY_WATCH": "false",
            "GATEWAY_ADMIN_TOKEN": "secret",
        }
        with subprocess_server(
            python_module("gateway", "serve", "--port", str(port)), port=port, env=env
        ) as (
            server,
            proc,
        ):
            routing.write_text(table_yaml(ups, routes_to("services")))
            os.kill(proc.pid, signal.SIGHUP)
            deadline = time.monotonic() + 15
            upstream = "legacy"
            while time.monotonic() < deadline and upstream != "services":
                upstream = httpx.get(f"{server.url}/api/moving").headers["x-gateway-upstream"]
                time.sleep(0.1)
            status = httpx.get(
                f"{server.url}/_gateway/api/status", headers={"Authorization": "Bearer secret"}
            ).json()
    assert upstream == "services"
    assert status["last_reload"]["trigger"] == "sighup"


def test_reload_outcomes_are_logged(tmp_path: Path) -> None:
    import asyncio
    import io
    import json

    from gateway.app import Gateway
    from gateway.logs import configure_logging
    from gateway.settings import GatewaySettings

    stream = io.StringIO()
    configure_logging(log_format="json", stream=stream)
    try:
        routing = tmp_path / "routing.yaml"
        routing.write_text(table_yaml({"legacy": "{url: 'http://127.0.0.1:9'}"}))
        app = Gateway(GatewaySettings(routing_file=routing, watch=False))
        applied = asyncio.run(app.reloader.reload("test"))
        routing.write_text(INVALID[0])
        failed = asyncio.run(app.reloader.reload("test"))
    finally:
        configure_logging(log_format="json")
    events = {e["event"]: e for e in map(json.loads, stream.getvalue().splitlines())}
    assert applied.ok and not failed.ok
    assert events["reload.applied"]["changed"] is False
    assert events["reload.failed"]["errors"]
    assert events["reload.failed"]["kept"] == app.tables.table.sha256


def test_file_change_reaches_every_worker_process(tmp_path: Path) -> None:
    with upstream_server("legacy") as (legacy, _), upstream_server("services") as (services, _):
        ups = {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}
        routing = tmp_path / "routing.yaml"
        routing.write_text(table_yaml(ups, routes_to("legacy")))
        port = free_port()
        env = {"GATEWAY_ROUTING_FILE": str(routing), "GATEWAY_WATCH": "true", "GATEWAY_ADMIN_TOKEN": "secret"}
        args = python_module("gateway", "serve", "--port", str(port), "--workers", "2")
        with subprocess_server(args, port=port, env=env) as (server, _proc):
            time.sleep(1.0)  # both workers up and watching
            # Every worker process watches the file and holds its own table.
            routing.write_text(table_yaml(ups, routes_to("services")))
            deadline = time.monotonic() + 15
            seen: set[str] = set()
            while time.monotonic() < deadline:
                with httpx.Client() as fresh:  # new connections spread over both workers
                    seen = {
                        fresh.get(f"{server.url}/api/moving").headers["x-gateway-upstream"] for _ in range(20)
                    }
                if seen == {"services"}:
                    break
                time.sleep(0.2)
    assert seen == {"services"}
