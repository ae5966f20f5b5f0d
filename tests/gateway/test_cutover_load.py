"""A route goes through every phase while a bounded load runs: no client sees an error."""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.gateway.cutover_support import ADMIN, Clock, gateway_server, sides, table, utc

ROUTES = """\
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
    guard: {max_error_rate: 0.05, min_requests: 50, window: 60s}
"""
PHASES = [
    ("legacy", utc(2026, 11, 20)),
    ("shadow", utc(2026, 11, 30)),
    ("canary 10%", utc(2026, 12, 7)),
    ("canary 50%", utc(2026, 12, 14)),
    ("live", utc(2026, 12, 21)),
]
CLIENTS = 4
PER_PHASE = 300
# Written to var/ (ignored by git) so a test run never dirties the checkout.
RESULTS = Path(__file__).resolve().parents[2] / "var" / "artifacts"


@pytest.mark.slow
def test_route_goes_through_all_phases_under_load_with_zero_client_errors(
    sqlite_url: str, tmp_path: Path
) -> None:
    clock = Clock(PHASES[0][1])
    phase_name = [PHASES[0][0]]
    served: Counter[tuple[str, str]] = Counter()
    failures: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()
    stop = threading.Event()
    with (
        sides(sqlite_url) as (legacy, target, lsrv, tsrv),
        gateway_server(tmp_path, table(lsrv.url, tsrv.url, ROUTES), clock) as (gw, gateway),
    ):

        def load(worker: int) -> None:
            n = 0
            with httpx.Client(timeout=10) as client:
                while not stop.is_set():
                    n += 1
                    started = time.perf_counter()
                    try:
                        response = client.get(
                            f"{gw.url}/api/items", headers={"X-API-Key": f"user-{worker}-{n % 50}"}
                        )
                    except httpx.HTTPError as exc:
                        with lock:
                            failures.append(repr(exc))
                        continue
                    elapsed = time.perf_counter() - started
                    with lock:
                        latencies.append(elapsed)
                        if (
                            response.status_code != 200
                            or response.json()["items"][0]["title"] != "Take On Me"
                        ):
                            failures.append(f"{response.status_code} {response.text[:100]}")
                        served[(phase_name[0], response.headers["x-side"])] += 1

        threads = [threading.Thread(target=load, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        try:
            for name, when in PHASES:
                with lock:
                    clock.travel(when)
                    phase_name[0] = name
                    start_count = sum(v for (p, _), v in served.items() if p == name)
                while sum(v for (p, _), v in served.items() if p == name) - start_count < PER_PHASE:
                    time.sleep(0.01)
                    assert not failures, failures[:3]
            # a reload in the middle of the load changes nothing for the clients
            with httpx.Client() as admin:
                assert admin.post(f"{gw.url}/_gateway/api/reload", headers=ADMIN).json()["ok"] is True
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        diffs = gateway.cutover.diffs.route("items")
        figures = {
            "clients": CLIENTS,
            "requests": len(latencies),
            "client_errors": len(failures),
            "by_phase": {
                name: {side: served[(name, side)] for side in ("legacy", "services")} for name, _ in PHASES
            },
            "shadow": {"compared": diffs.compared, "differing": diffs.differing, "dropped": diffs.dropped},
            "client_p50_ms": round(statistics.median(latencies) * 1000, 2),
            "client_p99_ms": round(statistics.quantiles(latencies, n=100)[98] * 1000, 2),
            "pinned": list(gateway.cutover.pins.all()),
        }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cutover-phases.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    assert failures == []
    by_phase = figures["by_phase"]
    assert by_phase["legacy"]["services"] == by_phase["shadow"]["services"] == 0
    assert 0 < by_phase["canary 10%"]["services"] < by_phase["canary 50%"]["services"]
    assert by_phase["live"]["legacy"] <= CLIENTS  # at most the requests in flight at the flip
    assert diffs.compared > 0 and diffs.differing == 0
    assert figures["pinned"] == []
