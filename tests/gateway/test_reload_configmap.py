"""Hot reload from a Kubernetes ConfigMap mount: the kubelet's ``..data`` symlink swap.

A running ``python -m gateway serve`` reads ``routing.yaml`` from a directory laid out and updated
exactly as the kubelet does it (tests/support/configmap.py). Traffic flows the whole time. Each
swap's table is served without a failed request, a watcher that only caught the first swap (the
bug: it watched the directory the symlink resolved to, which the kubelet deletes) fails the second,
and an invalid table is kept out: the old one keeps serving and the failure is reported.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.gateway.proxy_support import table_yaml, upstream_server
from tests.support.configmap import ConfigMapVolume
from tests.support.servers import RunningServer, free_port, python_module, subprocess_server

TOKEN = "configmap-test-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
INVALID = "version: 1\nupstreams:\n  legacy: {url: 'http://127.0.0.1:9'}\ndefault: nowhere\nroutes: []\n"


def routes_to(upstream: str) -> str:
    return f"  - id: moving\n    path: /api/moving\n    methods: [GET]\n    to: {upstream}\n"


def eventually(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Traffic:
    """Clients that keep calling the gateway during the swaps and keep every answer's upstream."""

    def __init__(self, url: str, clients: int = 2) -> None:
        self.url = url
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.upstreams: list[str] = []
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self.stop.is_set():
                try:
                    answer = client.get("/api/moving")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                if answer.status_code != 200:
                    self.failures.append(f"{answer.status_code}: {answer.text[:200]}")
                self.upstreams.append(answer.headers.get("x-gateway-upstream", "?"))

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


@contextmanager
def gateway_on(volume: ConfigMapVolume) -> Iterator[RunningServer]:
    port = free_port()
    env = {
        "GATEWAY_ROUTING_FILE": str(volume.path("routing.yaml")),
        "GATEWAY_WATCH": "true",
        "GATEWAY_ADMIN_TOKEN": TOKEN,
        "GATEWAY_STATE_DIR": str(volume.mount.parent / "state"),
        "GATEWAY_ACCESS_LOG": "false",
    }
    with subprocess_server(python_module("gateway", "serve", "--port", str(port)), port=port, env=env) as (
        server,
        _proc,
    ):
        yield server


def status(server: RunningServer) -> dict[str, object]:
    answer = httpx.get(f"{server.url}/_gateway/api/status", headers=ADMIN, timeout=10)
    assert answer.status_code == 200
    result: dict[str, object] = answer.json()
    return result


def last_reload(server: RunningServer) -> dict[str, object]:
    last = status(server)["last_reload"]
    return last if isinstance(last, dict) else {}


def served_by(server: RunningServer) -> str:
    return httpx.get(f"{server.url}/api/moving", timeout=10).headers["x-gateway-upstream"]


def test_kubelet_symlink_swaps_reload_the_table_without_a_failed_request(tmp_path: Path) -> None:
    with upstream_server("legacy") as (legacy, _), upstream_server("services") as (services, _):
        ups = {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}
        to_legacy, to_services = table_yaml(ups, routes_to("legacy")), table_yaml(ups, routes_to("services"))
        volume = ConfigMapVolume(tmp_path / "config", {"routing.yaml": to_legacy})
        with gateway_on(volume) as gateway:
            assert served_by(gateway) == "legacy"
            # The watcher starts after the port opens: swap in the same routes (a new comment) until
            # one swap was seen, so the swaps below are each the first chance, with no retry.
            primed = 0
            while last_reload(gateway).get("trigger") != "file":
                primed += 1
                assert primed < 100, "the watcher never saw a swap"
                volume.update({"routing.yaml": f"# prime {primed}\n{to_legacy}"})
                time.sleep(0.3)
            with Traffic(gateway.url) as traffic:
                sha_before = status(gateway)["table"]
                volume.update({"routing.yaml": to_services})
                eventually(lambda: served_by(gateway) == "services", "the first swap's table")
                # The second and third swaps: a watcher on the deleted ..2026_* directory misses these.
                volume.update({"routing.yaml": to_legacy})
                eventually(lambda: served_by(gateway) == "legacy", "the second swap's table")
                volume.update({"routing.yaml": to_services})
                eventually(lambda: served_by(gateway) == "services", "the third swap's table")
                good_sha = status(gateway)["table"]
                assert good_sha != sha_before
            assert traffic.failures == []
            assert {"legacy", "services"} <= set(traffic.upstreams), traffic.upstreams[:20]
            assert not (volume.mount / "..data_tmp").exists()
            assert len([p for p in volume.mount.iterdir() if p.name.startswith("..2")]) == 1


def test_an_invalid_table_in_a_configmap_swap_is_kept_out_and_reported(tmp_path: Path) -> None:
    with upstream_server("legacy") as (legacy, _), upstream_server("services") as (services, _):
        ups = {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}
        to_legacy, to_services = table_yaml(ups, routes_to("legacy")), table_yaml(ups, routes_to("services"))
        volume = ConfigMapVolume(tmp_path / "config", {"routing.yaml": to_services})
        with gateway_on(volume) as gateway:
            primed = 0
            while last_reload(gateway).get("trigger") != "file":
                primed += 1
                assert primed < 100, "the watcher never saw a swap"
                volume.update({"routing.yaml": f"# prime {primed}\n{to_services}"})
                time.sleep(0.3)
            good = status(gateway)["table"]
            with Traffic(gateway.url) as traffic:
                volume.update({"routing.yaml": INVALID})
                eventually(lambda: last_reload(gateway).get("ok") is False, "the refused reload")
                refused = last_reload(gateway)
                assert status(gateway)["table"] == good  # the last good table still serves
                assert served_by(gateway) == "services"
                # The watcher survives the refusal: the next good swap is applied.
                volume.update({"routing.yaml": to_legacy})
                eventually(lambda: served_by(gateway) == "legacy", "the good table after the bad one")
            errors = refused["errors"]
            assert isinstance(errors, list) and errors
            assert any("default" in str(error) and "routing.yaml" in str(error) for error in errors), errors
            assert refused["trigger"] == "file"
            assert traffic.failures == []
            assert traffic.upstreams and set(traffic.upstreams) <= {"services", "legacy"}
            metrics = httpx.get(f"{gateway.url}/_gateway/metrics", headers=ADMIN, timeout=10).text
            assert 'figway_reloads_total{result="failed"} 1.0' in metrics.splitlines()


async def test_a_routing_file_symlinked_to_another_directory_is_watched_where_it_lives(
    tmp_path: Path,
) -> None:
    # Not a ConfigMap: an operator's plain `ln -s /etc/figway/routing.yaml`; edits happen at the target.
    import asyncio

    import structlog

    from gateway.compiler import TableRef
    from gateway.loader import load_table
    from gateway.metrics import GatewayMetrics
    from gateway.reload import Reloader
    from gateway.rollout import system_clock

    (tmp_path / "etc").mkdir()
    (tmp_path / "app").mkdir()
    real = tmp_path / "etc" / "routing.yaml"
    ups = {"legacy": "{url: 'http://127.0.0.1:9'}", "services": "{url: 'http://127.0.0.1:10'}"}
    real.write_text(table_yaml(ups, routes_to("legacy")))
    link = tmp_path / "app" / "routing.yaml"
    link.symlink_to(real)
    reloader = Reloader(
        path=link,
        tables=TableRef(load_table(link)),
        metrics=GatewayMetrics(),
        logger=structlog.get_logger(),
        clock=system_clock,
    )
    watcher = asyncio.create_task(reloader.watch())
    try:
        for attempt in range(100):
            real.write_text(f"# edit {attempt}\n" + table_yaml(ups, routes_to("services")))
            await asyncio.sleep(0.3)
            if reloader.last is not None:
                break
        assert reloader.last is not None and reloader.last.ok and reloader.last.trigger == "file"
        assert reloader.tables.table.routes[0].target == "services"
    finally:
        reloader.stop()
        await asyncio.wait_for(watcher, 10)
