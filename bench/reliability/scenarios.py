"""The fault scenarios. Each one starts its own processes, holds a bounded load through the
gateway, injects its fault, and returns a :class:`Scenario` with the figures the report shows
and the checks that must hold (the quick test variant asserts the same checks).

Timing figures (p99, recovery time, slopes) are reported; the checks that decide pass/fail are
counts: failed requests, lost and duplicated rows, answers from the wrong table.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.reliability.load import Kind, LoadResult, run_load, unique_title
from bench.reliability.stack import (
    Server,
    admin_get,
    admin_reload,
    count_rows,
    gateway_server,
    legacy_server,
    running,
    services_server,
    test_upstream,
)

LIVE = '[{from: "2020-01-06T00:00:00", mode: live}]'
SHADOW = '[{from: "2020-01-06T00:00:00", mode: shadow}]'


@dataclass
class Check:
    what: str
    ok: bool
    detail: str = ""


@dataclass
class Scenario:
    name: str
    load: str = ""
    faults: str = ""
    requests: int = 0
    failed: int = 0
    failed_where_fallback: int | None = None
    rows_lost: int | None = None
    rows_duplicated: int | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    skipped: str = ""

    @property
    def ok(self) -> bool:
        return not self.skipped and all(check.ok for check in self.checks)

    def check(self, what: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(what, bool(ok), detail))


def table(upstreams: dict[str, str], routes: str) -> str:
    lines = ["version: 1", "timezone: UTC", "upstreams:"]
    lines += [f"  {name}: {spec}" for name, spec in upstreams.items()]
    lines.append("default: legacy")
    lines.append("routes:" + ("" if routes.strip() else " []"))
    return "\n".join(lines) + "\n" + routes


def _legacy_spec(server: Server) -> str:
    return f'{{url: "{server.url}", timeout: {{connect: 1, read: 10}}}}'


def _services_spec(server: Server, read: float = 5) -> str:
    return f'{{url: "{server.url}", timeout: {{connect: 0.5, read: {read}}}, health: /healthz}}'


@contextmanager
def apps(database_url: str, workdir: Path) -> Iterator[tuple[Server, Server]]:
    legacy, services = legacy_server(database_url, workdir), services_server(database_url, workdir)
    with running(legacy, services):
        yield legacy, services


class Sampler:
    """Samples a value every ``interval`` seconds in a thread until stopped."""

    def __init__(self, probe: Callable[[], Any], interval: float) -> None:
        self.samples: list[tuple[float, Any]] = []
        self._probe, self._interval = probe, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic(), self._probe()))
            except Exception as exc:  # noqa: BLE001 - a failed probe is a sample too
                self.samples.append((time.monotonic(), exc))
            self._stop.wait(self._interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)


def _in_thread(fn: Callable[[], Any]) -> threading.Thread:
    thread = threading.Thread(target=fn, daemon=True)
    thread.start()
    return thread


# -- kill services under load -------------------------------------------------------------------

KILL_ROUTES = f"""\
  - id: videos-read
    path: /api/videos/
    methods: [GET]
    target: services
    fallback: legacy
    rollout: {LIVE}
  - id: artists-read
    path: /api/artists/
    methods: [GET]
    target: services
    fallback: legacy
    rollout: {LIVE}
  - id: videos-write
    path: /api/videos/
    methods: [POST]
    target: services
    fallback: legacy
    rollout: {LIVE}
"""


def kill_services(database_url: str, workdir: Path, *, seconds: float, workers: int = 6) -> Scenario:
    result = Scenario("kill services (SIGKILL) under mixed load")
    with apps(database_url, workdir) as (legacy, services):
        routing = workdir / "routing-kill.yaml"
        routing.write_text(
            table({"legacy": _legacy_spec(legacy), "services": _services_spec(services)}, KILL_ROUTES)
        )
        gateway = gateway_server(
            routing, workdir, health_interval="0.5", breaker_failures="3", breaker_reset="1"
        )
        with running(gateway):
            kinds = [
                Kind("read videos", "GET", "/api/videos/?per_page=5", weight=3),
                Kind("read artists", "GET", "/api/artists/?per_page=5", weight=2),
                Kind(
                    "write video",
                    "POST",
                    "/api/videos/",
                    body=lambda: {"title": unique_title(), "artist_id": 1},
                ),
            ]
            timeline: dict[str, float] = {}

            def breaker_state() -> str:
                state: Any = admin_get(gateway, "upstreams")["upstreams"]
                return str(state["services"]["breaker"]["state"])

            def inject() -> None:
                time.sleep(seconds * 0.25)
                timeline["killed"] = time.monotonic()
                services.kill()
                time.sleep(seconds * 0.25)
                timeline["restarting"] = time.monotonic()
                services.start()
                timeline["restarted"] = time.monotonic()

            with Sampler(breaker_state, 0.2) as breakers:
                injector = _in_thread(inject)
                load = asyncio.run(run_load(gateway.url, kinds, workers=workers, seconds=seconds, timeout=30))
                injector.join(timeout=120)
                # the breaker closes once a probe or health check finds services back
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and breaker_state() != "closed":
                    time.sleep(0.2)
                final_breaker = breaker_state()
            fallbacks: Any = admin_get(gateway, "cutover")
    states = [s for _, s in breakers.samples if isinstance(s, str)]
    reads = load.of("read videos") + load.of("read artists")
    writes = load.of("write video")
    titles = [str(o.body["title"]) for o in writes if o.body]
    rows = dict(
        (str(t), int(n))  # type: ignore[call-overload]
        for t, n in count_rows(
            database_url, "SELECT title, COUNT(*) FROM videos WHERE title LIKE 'rel-%' GROUP BY title"
        )
    )
    done = [o for o in writes if o.ok]
    failed_writes = [o for o in writes if not o.ok]
    lost = [o for o in done if rows.get(str(o.body["title"]) if o.body else "", 0) != 1]
    duplicated = [t for t in titles if rows.get(t, 0) > 1]
    ambiguous = [o for o in failed_writes if o.body and rows.get(str(o.body["title"]), 0) == 1]
    result.load = (
        f"{workers} clients, {seconds:.0f} s, reads:writes 5:1 through the gateway (routes live on services)"
    )
    result.faults = "services SIGKILLed at 25 %, restarted at 50 % of the run"
    result.requests = len(load.outcomes)
    result.failed = len(load.failed())
    result.failed_where_fallback = len([o for o in reads if not o.ok])
    result.rows_lost = len(lost)
    result.rows_duplicated = len(duplicated)
    result.figures = {
        "reads": len(reads),
        "reads failed": result.failed_where_fallback,
        "writes": len(writes),
        "writes done (2xx, one row each)": len(done) - len(lost),
        "writes failed cleanly (no row)": len(failed_writes) - len(ambiguous),
        "writes failed after the row was written (client saw an error)": len(ambiguous),
        "write statuses": load.statuses("write video"),
        "breaker states seen": sorted(set(states)),
        "breaker at the end": final_breaker,
        "fallbacks counted by the gateway": sum(
            int(r.get("fallbacks", 0)) for r in fallbacks.get("routes", []) if isinstance(r, dict)
        ),
        "services down (s)": round(timeline.get("restarted", 0) - timeline.get("killed", 0), 1),
    }
    result.check(
        "safe requests on fallback routes: zero client errors",
        result.failed_where_fallback == 0,
        str(dict(Counter(load.statuses("read videos")) + Counter(load.statuses("read artists")))),
    )
    result.check("every 2xx write left exactly one row", not lost, f"{len(lost)} lost")
    result.check("no write was applied twice", not duplicated, f"{len(duplicated)} duplicated")
    result.check(
        "failed writes got a gateway error answer (502/503/504), not a hang",
        all(o.status in (502, 503, 504) for o in failed_writes),
        str(load.statuses("write video")),
    )
    result.check("the breaker opened while services were down", "open" in states, str(sorted(set(states))))
    result.check("the breaker closed after services came back", final_breaker == "closed", final_breaker)
    return result


# -- slow upstream ----------------------------------------------------------------------------------

SLOW_ROUTES = """\
  - id: slow
    path: /slow/{rest:path}
    to: slowup
"""


def slow_upstream(database_url: str, workdir: Path, *, seconds: float, workers: int = 16) -> Scenario:
    result = Scenario("slow upstream (10x its latency)")
    base_delay, timeout = 0.05, 0.25
    legacy = legacy_server(database_url, workdir)
    upstream = test_upstream(workdir, "slowup")
    with running(legacy, upstream):
        routing = workdir / "routing-slow.yaml"
        spec = f'{{url: "{upstream.url}", timeout: {{connect: 0.5, read: {timeout}}}}}'
        routing.write_text(table({"legacy": _legacy_spec(legacy), "slowup": spec}, SLOW_ROUTES))
        gateway = gateway_server(routing, workdir)
        with running(gateway):

            def control(**state: Any) -> None:
                httpx.post(f"{upstream.url}/_control", json=state, timeout=5).raise_for_status()

            kinds = [
                Kind("slow route", "GET", "/slow/work", weight=3),
                Kind("other route", "GET", "/api/artists/?per_page=5", weight=1),
            ]

            def phase(delay: float) -> LoadResult:
                control(delay=delay)
                return asyncio.run(
                    run_load(gateway.url, kinds, workers=workers, seconds=seconds / 3, timeout=30)
                )

            def footprint() -> tuple[int, int, int]:
                return gateway.connections(), gateway.rss(), gateway.fds()

            warm = phase(base_delay)
            time.sleep(4.5)  # idle pooled connections expire (keepalive 4 s) so baselines compare
            before = footprint()
            with Sampler(footprint, 0.5) as during:
                slow = phase(base_delay * 10)
            recovered = phase(base_delay)
            time.sleep(4.5)
            after = footprint()
    slow_answers = slow.of("slow route")
    late = [o for o in slow_answers if o.elapsed > timeout + 0.5]
    peak_conns = max((s[0] for _, s in during.samples if isinstance(s, tuple)), default=0)
    result.load = f"{workers} clients, 3 phases of {seconds / 3:.0f} s (normal, slow, normal), slow:other 3:1"
    result.faults = (
        f"upstream latency {base_delay * 1000:.0f} ms → {base_delay * 10000:.0f} ms, "
        f"read timeout {timeout * 1000:.0f} ms"
    )
    result.requests = len(warm.outcomes) + len(slow.outcomes) + len(recovered.outcomes)
    others = warm.of("other route") + slow.of("other route") + recovered.of("other route")
    result.failed = (
        len([o for o in others if not o.ok])
        + len(warm.failed("slow route"))
        + len(recovered.failed("slow route"))
    )
    result.figures = {
        "slow phase statuses (slow route)": slow.statuses("slow route"),
        "slow phase p99 / max (slow route, ms)": (
            round(slow.p99_ms("slow route")),
            round(slow.max_ms("slow route")),
        ),
        "other route p99 normal / slow phase (ms)": (
            round(warm.p99_ms("other route")),
            round(slow.p99_ms("other route")),
        ),
        "other route errors": len([o for o in others if not o.ok]),
        "gateway TCP connections before / peak / after": (before[0], peak_conns, after[0]),
        "gateway RSS before / after (MB)": (round(before[1] / 2**20, 1), round(after[1] / 2**20, 1)),
        "gateway fds before / after": (before[2], after[2]),
        "recovered phase statuses": recovered.statuses("slow route"),
    }
    result.check(
        "every slow request got 504",
        bool(slow_answers) and all(o.status == 504 for o in slow_answers),
        str(slow.statuses("slow route")),
    )
    result.check("504 came within the timeout (+0.5 s)", not late, f"{len(late)} later")
    result.check("other routes unaffected (zero errors)", all(o.ok for o in others))
    result.check("no growth of gateway connections", after[0] <= before[0] + 2, f"{before[0]} → {after[0]}")
    result.check("no growth of gateway fds", after[2] <= before[2] + 2, f"{before[2]} → {after[2]}")
    result.check(
        "no growth of gateway memory (< 20 MB)",
        after[1] - before[1] < 20 * 2**20,
        f"{(after[1] - before[1]) / 2**20:+.1f} MB",
    )
    result.check(
        "normal service after the slow phase",
        not recovered.failed("slow route"),
        str(recovered.statuses("slow route")),
    )
    return result


# -- reload storm ------------------------------------------------------------------------------------


def _storm_tables(legacy: Server, services: Server) -> tuple[str, str, str]:
    ups = {"legacy": _legacy_spec(legacy), "services": _services_spec(services)}
    a = table(ups, "  - id: storm-a\n    path: /api/videos/\n    methods: [GET]\n    to: legacy\n")
    b = table(ups, "  - id: storm-b\n    path: /api/videos/\n    methods: [GET]\n    to: services\n")
    invalid = a.replace("    to: legacy\n", "    to: legacy\n    colour: blue\n")
    return a, b, invalid


def reload_storm(database_url: str, workdir: Path, *, reloads: int = 200, workers: int = 6) -> Scenario:
    from gateway.errors import ConfigError
    from gateway.loader import parse_table

    result = Scenario(f"reload storm ({reloads} reloads)")
    rng = random.Random(11)
    counts = {"valid": 0, "invalid": 0, "half-written": 0, "half-written (still valid)": 0}
    mismatches: list[str] = []
    wrong_answers: list[str] = []
    with apps(database_url, workdir) as (legacy, services):
        a, b, invalid = _storm_tables(legacy, services)
        routing = workdir / "routing-storm.yaml"
        routing.write_text(a)
        gateway = gateway_server(routing, workdir)
        with running(gateway):
            import hashlib

            last_good = hashlib.sha256(a.encode()).hexdigest()
            done = threading.Event()

            def storm() -> None:
                nonlocal last_good
                try:
                    for n in range(reloads):
                        choice = rng.random()
                        if choice < 0.4:
                            text, kind = (a if n % 2 else b), "valid"
                        elif choice < 0.7:
                            text, kind = invalid, "invalid"
                        else:
                            source = a if n % 2 else b
                            text, kind = source[: rng.randrange(1, len(source))], "half-written"
                        try:
                            parse_table(text)
                            valid = True
                        except ConfigError:
                            valid = False
                        if kind == "half-written" and valid:
                            kind = "half-written (still valid)"
                        counts[kind] += 1
                        with routing.open("w") as out:  # not atomic: the gateway may read it half-written
                            out.write(text)
                        status, body = admin_reload(gateway)
                        if valid:
                            last_good = hashlib.sha256(text.encode()).hexdigest()
                        if (status == 200) != valid:
                            mismatches.append(f"#{n} {kind}: reload answered {status}")
                        served: Any = admin_get(gateway, "status")["table"]
                        if served["sha256"] != last_good:
                            mismatches.append(f"#{n} {kind}: served table is not the last good one")
                        time.sleep(0.01)
                finally:
                    done.set()

            kinds = [
                Kind("videos (flipping route)", "GET", "/api/videos/?per_page=5", weight=2),
                Kind("artists (default)", "GET", "/api/artists/?per_page=5", weight=1),
            ]
            storm_thread = _in_thread(storm)
            started = time.monotonic()

            async def load_until_done() -> LoadResult:
                total = LoadResult()
                while not done.is_set() and time.monotonic() - started < 600:
                    part = await run_load(gateway.url, kinds, workers=workers, seconds=1.0)
                    total.outcomes += part.outcomes
                return total

            load = asyncio.run(load_until_done())
            storm_thread.join(timeout=60)
            history: Any = admin_get(gateway, "status")
    for outcome in load.of("videos (flipping route)"):
        route = outcome.headers.get("x-gateway-route")
        if route not in ("storm-a", "storm-b"):
            wrong_answers.append(str(route))
    result.load = f"{workers} clients on two routes for the whole storm ({time.monotonic() - started:.0f} s)"
    result.faults = (
        f"{counts['valid']} valid, {counts['invalid']} invalid, {counts['half-written']} half-written, "
        f"{counts['half-written (still valid)']} truncated-but-valid tables; each written in place, reloaded"
    )
    result.requests = len(load.outcomes)
    result.failed = len(load.failed())
    result.failed_where_fallback = result.failed
    result.figures = {
        "statuses": load.statuses(),
        "p99 (ms)": round(load.p99_ms()),
        "reload answers that disagreed with the file's validity": len(mismatches),
        "answers not from a known good table": len(wrong_answers),
        "last reload": (history.get("last_reload") or {}).get("ok") if isinstance(history, dict) else None,
    }
    result.check("zero failed requests", result.failed == 0, str(load.statuses()))
    result.check(
        "invalid and half-written files refused, valid ones applied",
        not mismatches,
        "; ".join(mismatches[:5]),
    )
    result.check("the last good table always served", not wrong_answers, ", ".join(wrong_answers[:5]))
    return result


# -- shadow target failing or hanging ------------------------------------------------------------------

SHADOW_ROUTES = f"""\
  - id: videos-shadow
    path: /api/videos/
    methods: [GET]
    target: shadowup
    rollout: {SHADOW}
"""


def shadow_faults(database_url: str, workdir: Path, *, seconds: float, workers: int = 8) -> Scenario:
    result = Scenario("shadow target failing, then hanging")
    legacy = legacy_server(database_url, workdir)
    upstream = test_upstream(workdir, "shadowup")
    with running(legacy, upstream):
        routing = workdir / "routing-shadow.yaml"
        spec = f'{{url: "{upstream.url}", timeout: {{connect: 0.5, read: 5}}}}'
        routing.write_text(table({"legacy": _legacy_spec(legacy), "shadowup": spec}, SHADOW_ROUTES))
        gateway = gateway_server(routing, workdir, shadow_queue="20", shadow_workers="2")
        with running(gateway):
            kinds = [Kind("videos (shadowed)", "GET", "/api/videos/?per_page=5")]

            def control(**state: Any) -> None:
                httpx.post(f"{upstream.url}/_control", json=state, timeout=5).raise_for_status()

            def phase() -> LoadResult:
                # at least 100 requests per phase: more than the shadow queue and its workers hold
                result = asyncio.run(run_load(gateway.url, kinds, workers=workers, seconds=seconds / 3))
                missing = 100 - len(result.outcomes)
                if missing > 0:
                    more = asyncio.run(
                        run_load(gateway.url, kinds, workers=workers, seconds=120, max_requests=missing)
                    )
                    result.outcomes += more.outcomes
                return result

            def shadow_summary() -> dict[str, Any]:
                time.sleep(0.5)  # mirrored requests already dequeued finish their comparison
                state: Any = admin_get(gateway, "cutover")
                row = next(r for r in state["routes"] if r["id"] == "videos-shadow")
                return dict(row.get("shadow") or {})

            healthy = phase()
            after_healthy = shadow_summary()
            control(status=500)
            failing = phase()
            after_failing = shadow_summary()
            control(status=200, hang=True)
            hanging = phase()
            after_hanging = shadow_summary()
            mirrored = httpx.post(f"{upstream.url}/_control", json={}, timeout=5).json()["requests"]
            gateway.stop()
            upstream.kill()  # its hung requests would hold a graceful shutdown for good
    phases = {"healthy": healthy, "failing (500)": failing, "hanging": hanging}
    from_legacy = all(
        o.headers.get("x-gateway-upstream") == "legacy" for p in phases.values() for o in p.outcomes if o.ok
    )
    result.load = f"{workers} clients, 3 phases of {seconds / 3:.0f} s, GET on a route in shadow mode"
    result.faults = "shadow target answers 500, then never answers (shadow queue 20, 2 workers)"
    result.requests = sum(len(p.outcomes) for p in phases.values())
    result.failed = sum(len(p.failed()) for p in phases.values())
    result.failed_where_fallback = result.failed
    result.figures = {
        "client p99 healthy / failing / hanging (ms)": tuple(round(p.p99_ms()) for p in phases.values()),
        "client statuses": {name: p.statuses() for name, p in phases.items()},
        "shadow after healthy phase": after_healthy,
        "shadow after failing phase": after_failing,
        "shadow after hanging phase": after_hanging,
        "requests that reached the shadow target": mirrored,
        # Which side produced a failure: the gateway adds X-Gateway-* to an upstream's answer,
        # so a failure without them came from the gateway itself.
        "failed answers (phase, status, error, gateway headers)": [
            (name, o.status, o.error, o.headers) for name, p in phases.items() for o in p.failed()
        ],
    }
    result.check("clients unaffected: zero errors in every phase", result.failed == 0)
    result.check("clients answered from legacy", from_legacy)
    result.check(
        "target failures counted as shadow errors or diffs",
        int(after_failing.get("errors", 0)) + int(after_failing.get("differing", 0))
        > int(after_healthy.get("errors", 0)) + int(after_healthy.get("differing", 0)),
        str(after_failing),
    )
    result.check(
        "a hanging target makes the gateway drop and count mirrored requests",
        int(after_hanging.get("dropped", 0)) > 0,
        str(after_hanging),
    )
    return result


# -- MariaDB restart ---------------------------------------------------------------------------------

DB_ROUTES = """\
  - id: videos-services
    path: /api/videos/
    methods: [GET]
    to: services
"""


def mariadb_restart(database_url: str, workdir: Path, *, seconds: float, workers: int = 6) -> Scenario:
    result = Scenario("MariaDB restart under load")
    if not database_url.startswith("mysql") or shutil.which("service") is None:
        result.skipped = "needs MariaDB and the `service` command"
        return result
    with apps(database_url, workdir) as (legacy, services):
        routing = workdir / "routing-db.yaml"
        routing.write_text(
            table({"legacy": _legacy_spec(legacy), "services": _services_spec(services, read=10)}, DB_ROUTES)
        )
        gateway = gateway_server(routing, workdir)
        with running(gateway):
            kinds = [
                Kind("services read", "GET", "/api/videos/?per_page=5"),
                Kind("legacy read", "GET", "/api/artists/?per_page=5"),
            ]
            timeline: dict[str, float] = {}

            def restart() -> None:
                time.sleep(seconds * 0.25)
                timeline["restart"] = time.monotonic()
                done = subprocess.run(["service", "mariadb", "restart"], capture_output=True, timeout=120)
                timeline["restarted"] = time.monotonic()
                timeline["rc"] = done.returncode

            thread = _in_thread(restart)
            load = asyncio.run(run_load(gateway.url, kinds, workers=workers, seconds=seconds, timeout=30))
            thread.join(timeout=180)
    restarted = timeline.get("restarted", float("inf"))
    tail_start = restarted + 10
    tail = [o for o in load.outcomes if o.started >= tail_start]
    recovery: dict[str, float | None] = {}
    for kind in ("services read", "legacy read"):
        after = [o for o in load.of(kind) if o.started >= timeline.get("restart", 0)]
        last_fail = max((o.started + o.elapsed for o in after if not o.ok), default=None)
        recovery[kind] = None if last_fail is None else round(max(0.0, last_fail - restarted), 1)
    result.load = f"{workers} clients, {seconds:.0f} s, reads on services (no fallback) and legacy"
    took = restarted - timeline.get("restart", restarted)
    result.faults = f"`service mariadb restart` at 25 % (took {took:.1f} s, exit {timeline.get('rc')})"
    result.requests = len(load.outcomes)
    result.failed = len(load.failed())
    result.figures = {
        "statuses services / legacy": (load.statuses("services read"), load.statuses("legacy read")),
        "last failure after the restart finished (s) services / legacy": (
            recovery["services read"],
            recovery["legacy read"],
        ),
        "longest request (ms)": round(load.max_ms()),
        "requests in the last part (restart + 10 s on)": len(tail),
    }
    result.check("the restart ran", timeline.get("rc") == 0, str(timeline.get("rc")))
    result.check(
        "no request hung past its timeout (10 s read + 1 s)",
        load.max_ms() <= 11_000,
        f"{load.max_ms():.0f} ms",
    )
    result.check(
        "both apps recovered without a restart (zero errors from restart + 10 s on)",
        bool(tail) and all(o.ok for o in tail),
        f"{len([o for o in tail if not o.ok])} failed of {len(tail)}",
    )
    return result


# -- soak ------------------------------------------------------------------------------------------------


def _slope_per_minute(samples: list[tuple[float, float]]) -> float:
    if len(samples) < 3:
        return 0.0
    t0 = samples[0][0]
    xs = [(t - t0) / 60 for t, _ in samples]
    ys = [v for _, v in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 0.0 if var == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def soak(
    database_url: str, workdir: Path, *, seconds: float, flip_every: float, workers: int = 4
) -> Scenario:
    result = Scenario(f"soak ({seconds / 60:.1f} min, route flip every {flip_every:.0f} s)")
    flips = 0
    with apps(database_url, workdir) as (legacy, services):
        ups = {"legacy": _legacy_spec(legacy), "services": _services_spec(services)}
        sides = [
            table(ups, f"  - id: soak\n    path: /api/videos/\n    methods: [GET]\n    to: {side}\n")
            for side in ("services", "legacy")
        ]
        routing = workdir / "routing-soak.yaml"
        routing.write_text(sides[0])
        gateway = gateway_server(routing, workdir)
        with running(gateway):
            stop = threading.Event()

            def flipper() -> None:
                nonlocal flips
                while not stop.wait(flip_every):
                    flips += 1
                    routing.write_text(sides[flips % 2])
                    admin_reload(gateway)
                    admin_get(gateway, "status")  # the admin API under the same soak

            kinds = [
                Kind("videos (flipping)", "GET", "/api/videos/?per_page=5", weight=2),
                Kind("artists", "GET", "/api/artists/?per_page=5"),
            ]
            thread = _in_thread(flipper)
            with Sampler(lambda: (gateway.rss(), gateway.fds()), 1.0) as sampler:
                load = asyncio.run(
                    run_load(gateway.url, kinds, workers=workers, seconds=seconds, pause=0.002)
                )
            stop.set()
            thread.join(timeout=30)
    samples = [(t, v) for t, v in sampler.samples if isinstance(v, tuple)]
    settled = samples[len(samples) // 10 :]  # the first tenth is warm-up (pools, caches)
    rss = [(t, v[0] / 2**20) for t, v in settled]
    fds = [(t, float(v[1])) for t, v in settled]
    rss_slope, fd_slope = _slope_per_minute(rss), _slope_per_minute(fds)
    result.load = f"{workers} clients, {seconds:.0f} s, two proxied routes"
    result.faults = f"{flips} route flips (services ↔ legacy) by rewrite + reload"
    result.requests = len(load.outcomes)
    result.failed = len(load.failed())
    result.failed_where_fallback = result.failed
    result.figures = {
        "requests/s": round(len(load.outcomes) / seconds),
        "gateway RSS first / last (MB)": (round(rss[0][1], 1), round(rss[-1][1], 1)) if rss else None,
        "RSS slope (MB/min)": round(rss_slope, 3),
        "gateway fds first / last": (int(fds[0][1]), int(fds[-1][1])) if fds else None,
        "fd slope (fds/min)": round(fd_slope, 3),
        "statuses": load.statuses(),
    }
    result.check("zero failed requests", result.failed == 0, str(load.statuses()))
    result.check("route flips happened", flips >= 1, str(flips))
    # Flat means the slope, projected over the whole run, stays within what pooled upstream
    # connections and allocator noise explain: 8 fds, 10 MB.
    minutes = seconds / 60
    result.check(
        "fds flat (slope x run length <= 8 fds)",
        fd_slope * minutes <= 8,
        f"{fd_slope:+.2f}/min over {minutes:.1f} min",
    )
    result.check(
        "RSS flat (slope x run length < 10 MB)",
        rss_slope * minutes < 10,
        f"{rss_slope:+.3f} MB/min over {minutes:.1f} min",
    )
    return result
