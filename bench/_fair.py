"""The fair harness the legacy-vs-services benchmarks share (bench/db.py, bench/enrich.py).

What "fair" means here, on a small machine shared with other work:

- **Pinned CPUs.** The server under test runs on one core (`taskset -c SERVER_CPU`); wrk and
  the fake provider server on the other (`LOAD_CPU`). Both sides get the same single core, so
  legacy's 8 threads cannot borrow a second core that uvicorn's one event loop would not use,
  and the load generator never steals from the server it measures. (The MariaDB server is a
  shared system service: it is not pinned, and its CPU is not counted for either side.)
- **Both sides in one run, interleaved.** Each round measures every cell on both sides, the
  side order alternating between rounds; the figure kept is the median of the rounds. Minutes
  of changing background load then fall on both sides alike.
- **Drained before measured.** After a cell, a server can still be working through the backlog
  wrk left in its listen queue (legacy keeps working ~16 s after a c=256 run). Before the next
  cell starts, every server must have been idle (CPU under `IDLE_SHARE` of a core) for
  `IDLE_WINDOW` seconds, so no cell pays for the previous one.
- **CPU per request from the server's own CPU time** (psutil: user + system of the process tree,
  read before and after the cell), divided by the requests wrk completed. Unlike req/s, this
  barely moves when a neighbour takes the CPU away: it is the figure to compare across runs.
  The load average is recorded with every cell.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench._load import Load, tree_cpu, wrk

SERVER_CPU = 1
LOAD_CPU = 0
IDLE_SHARE = 0.03  # of one core
IDLE_WINDOW = 1.0
DRAIN_TIMEOUT = 90.0
TASKSET = shutil.which("taskset")


def pinned(args: Sequence[str], cpu: int) -> list[str]:
    """`args` run on one CPU (unchanged when there is no taskset or only one CPU)."""
    if TASKSET is None or (os.cpu_count() or 1) < 2:
        return list(args)
    return [TASKSET, "-c", str(cpu), *args]


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def drain(pids: Sequence[int], *, timeout: float = DRAIN_TIMEOUT) -> float:
    """Wait until every process tree in `pids` has been idle for IDLE_WINDOW; seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = [tree_cpu(pid) for pid in pids]
        time.sleep(IDLE_WINDOW)
        used = max(tree_cpu(pid) - b for pid, b in zip(pids, before, strict=True))
        if used < IDLE_SHARE * IDLE_WINDOW:
            return time.monotonic() - started
    print(f"bench: servers still busy after {timeout:.0f}s; measuring anyway", file=sys.stderr)
    return time.monotonic() - started


@dataclass
class Sample:
    """One cell of one round: wrk's figures plus the server's CPU and the machine's load."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu_ms_per_request: float
    load_average: float
    drained_s: float
    extra: dict[str, float] = field(default_factory=dict)


def measure(
    url: str,
    pid: int,
    connections: int,
    seconds: int,
    *,
    script: Path | None = None,
    others: Sequence[int] = (),
    extra: Callable[[], dict[str, float]] | None = None,
) -> Sample:
    """Drain every server, then one wrk run (pinned to LOAD_CPU) against `url`, with the CPU
    the server `pid` spent on it. `extra` is read before and after: its deltas are kept."""
    drained = drain([pid, *others])
    extra_before = extra() if extra else {}
    cpu_before = tree_cpu(pid)
    load: Load = wrk(url, connections, seconds, script=script, cpu=LOAD_CPU)
    cpu = tree_cpu(pid) - cpu_before
    deltas = {k: v - extra_before.get(k, 0.0) for k, v in (extra() if extra else {}).items()}
    return Sample(
        requests_per_s=load.requests_per_s,
        p50_ms=load.p50_ms,
        p99_ms=load.p99_ms,
        errors=load.errors,
        requests=load.requests,
        cpu_ms_per_request=round(cpu * 1000 / max(load.requests, 1), 3),
        load_average=load_average(),
        drained_s=round(drained, 1),
        extra=deltas,
    )


@dataclass
class Cell:
    """The rounds of one (cell, side) and their medians."""

    key: str
    side: str
    samples: list[Sample] = field(default_factory=list)

    def median(self, name: str) -> float:
        return float(statistics.median(getattr(s, name) for s in self.samples))

    def median_extra(self, name: str) -> float:
        return float(statistics.median(s.extra.get(name, 0.0) for s in self.samples))

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.samples)

    def summary(self) -> dict[str, object]:
        return {
            "key": self.key,
            "side": self.side,
            "rounds": len(self.samples),
            "requests_per_s": round(self.median("requests_per_s"), 1),
            "p50_ms": round(self.median("p50_ms"), 1),
            "p99_ms": round(self.median("p99_ms"), 1),
            "cpu_ms_per_request": round(self.median("cpu_ms_per_request"), 2),
            "errors": self.errors,
            "load_average": round(self.median("load_average"), 2),
            "samples": [s.__dict__ for s in self.samples],
        }


def interleave(
    keys: Sequence[str],
    sides: Sequence[str],
    rounds: int,
    run: Callable[[str, str], Sample],
    *,
    say: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True),
) -> dict[tuple[str, str], Cell]:
    """`rounds` rounds of every key on every side; the side order flips each round."""
    cells = {(key, side): Cell(key, side) for key in keys for side in sides}
    for index in range(rounds):
        order = list(sides) if index % 2 == 0 else list(reversed(sides))
        for key in keys:
            for side in order:
                sample = run(key, side)
                cells[(key, side)].samples.append(sample)
                say(
                    f"  round {index + 1}/{rounds} {side:8} {key:34} {sample.requests_per_s:8.1f} req/s"
                    f"  p50 {sample.p50_ms:8.1f}  p99 {sample.p99_ms:8.1f} ms"
                    f"  cpu {sample.cpu_ms_per_request:6.2f} ms/req  err {sample.errors}"
                    f"  load {sample.load_average:.1f}"
                )
    return cells


PY_SPY = Path(sys.executable).with_name("py-spy")


@contextmanager
def flame_graph(pid: int, svg: Path, seconds: int, *, rate: int = 200) -> Iterator[None]:
    """py-spy samples `pid` (and its children: gunicorn's worker) for `seconds` while the
    caller drives load; the flame graph is written to `svg`. Skipped when py-spy is missing."""
    if not PY_SPY.exists():
        print("bench: py-spy not installed (uv sync --group dev); no flame graph", file=sys.stderr)
        yield
        return
    args = [
        str(PY_SPY), "record", "--pid", str(pid), "--subprocesses", "--nonblocking",
        "--rate", str(rate), "--duration", str(seconds), "--format", "flamegraph", "--output", str(svg),
    ]  # fmt: skip
    recorder = subprocess.Popen(pinned(args, LOAD_CPU), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)  # attached before the load starts
        yield
    finally:
        try:
            _, err = recorder.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            recorder.kill()
            _, err = recorder.communicate()
        if recorder.returncode != 0:
            print(f"bench: py-spy failed: {err.decode(errors='replace')[-300:]}", file=sys.stderr)
