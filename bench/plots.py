"""PNG plots of a `python -m bench all` run (matplotlib, no display needed).

Each function takes one benchmark's JSON payload (as its own module writes it) and returns the
image it wrote, or None when the payload has nothing to draw.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

COLOURS = {
    "direct": "#4c72b0",
    "nginx": "#55a868",
    "gateway": "#c44e52",
    "legacy": "#8172b2",
    "services": "#dd8452",
}


def _against_concurrency(
    series: Mapping[str, list[tuple[int, float, float]]], title: str, path: Path
) -> Path | None:
    """Two panels: throughput and p99 against concurrency, one line per series."""
    if not series:
        return None
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, points in series.items():
        points = sorted(points)
        xs = [p[0] for p in points]
        colour = COLOURS.get(name.split(" ")[0])
        left.plot(xs, [p[1] for p in points], marker="o", label=name, color=colour)
        right.plot(xs, [p[2] for p in points], marker="o", label=name, color=colour)
    levels = sorted({p[0] for points in series.values() for p in points})
    for axis, label in ((left, "requests/s"), (right, "p99 latency (ms)")):
        axis.set_xscale("log", base=2)
        axis.set_xticks(levels, [str(level) for level in levels])
        axis.set_xlabel("concurrent connections (wrk -c)")
        axis.set_ylabel(label)
        axis.grid(True, alpha=0.3)
        axis.legend()
    right.set_yscale("log")
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def gateway(payload: Any, path: Path) -> Path | None:
    series: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for run in payload.get("median", []):
        series[run["target"]].append((run["connections"], run["requests_per_s"], run["p99_ms"]))
    return _against_concurrency(series, "Gateway overhead: direct vs nginx vs figway gateway", path)


def enrich(payload: Any, path: Path, database: str) -> Path | None:
    series: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for cell in payload.get("cells", []):
        name = f"{cell['side']} ({cell['latency'] * 1000:.0f} ms)" if "latency" in cell else cell["side"]
        series[name].append((cell["connections"], cell["requests_per_s"], cell["p99_ms"]))
    return _against_concurrency(series, f"Metadata enrichment ({database}): legacy vs services", path)


def _bars(groups: list[str], sides: Mapping[str, list[float]], axis: Any, ylabel: str) -> None:
    width = 0.8 / max(len(sides), 1)
    for offset, (side, values) in enumerate(sides.items()):
        xs = [i + offset * width for i in range(len(groups))]
        axis.bar(xs, values, width, label=side, color=COLOURS.get(side))
    axis.set_xticks([i + width * (len(sides) - 1) / 2 for i in range(len(groups))])
    axis.set_xticklabels(groups, rotation=20, ha="right", fontsize=8)
    axis.set_ylabel(ylabel)
    axis.grid(True, axis="y", alpha=0.3)
    axis.legend()


def db(payload: Any, path: Path) -> Path | None:
    if not payload:
        return None
    groups = list(dict.fromkeys(f"{row['backend']}: {row['endpoint'].split(' (')[0]}" for row in payload))
    rps: dict[str, list[float]] = {"legacy": [0.0] * len(groups), "services": [0.0] * len(groups)}
    p99: dict[str, list[float]] = {"legacy": [0.0] * len(groups), "services": [0.0] * len(groups)}
    for row in payload:
        if row["side"] not in rps:  # a baseline (services@<ref>) run beside the two
            continue
        index = groups.index(f"{row['backend']}: {row['endpoint'].split(' (')[0]}")
        figures = row.get("summary") or row["load"]
        rps[row["side"]][index] = figures["requests_per_s"]
        p99[row["side"]][index] = figures["p99_ms"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    _bars(groups, rps, left, "requests/s (wrk -c64)")
    _bars(groups, p99, right, "p99 latency (ms)")
    figure.suptitle("Database endpoints: legacy (gunicorn 1x8) vs services (uvicorn 1)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def system(payload: Any, path: Path) -> Path | None:
    cells = payload.get("cells", [])
    if not cells:
        return None
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    groups = [f"c={cells[0]['connections']}"]
    _bars(groups, {c["side"]: [c["requests_per_s"]] for c in cells}, left, "requests/s")
    _bars(groups, {c["side"]: [c["p99_ms"]] for c in cells}, right, "p99 latency (ms)")
    figure.suptitle("System commands (/api/health/system): legacy vs services")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def memory(payload: Any, path: Path) -> Path | None:
    programs = payload.get("programs", [])
    if not programs:
        return None
    figure, axis = plt.subplots(figsize=(8, 4))
    names = [p["name"] for p in programs]
    phases = {
        "idle": [p["idle_mb"] for p in programs],
        "peak under load": [p["peak_mb"] for p in programs],
        "after load": [p["after_mb"] for p in programs],
    }
    _bars(names, phases, axis, "RSS (MB)")
    axis.set_title("Resident memory per program (one process or worker each)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def draw_all(results: Mapping[str, Any], directory: Path) -> list[Path]:
    """Every plot the results allow; a plot that fails is reported and skipped."""
    directory.mkdir(parents=True, exist_ok=True)
    drawers: dict[str, Callable[[Any, Path], Path | None]] = {
        "gateway": gateway,
        "db": db,
        "enrich-sqlite": lambda payload, path: enrich(payload, path, "SQLite"),
        "enrich-mariadb": lambda payload, path: enrich(payload, path, "MariaDB"),
        "system": system,
        "memory": memory,
    }
    images: list[Path] = []
    for label, payload in results.items():
        drawer = drawers.get(label)
        if drawer is None:
            continue
        try:
            image = drawer(payload, directory / f"{label}.png")
        except (KeyError, TypeError, ValueError) as exc:
            print(f"bench plots: {label}: {type(exc).__name__}: {exc}", flush=True)
            continue
        if image is not None:
            images.append(image)
    return images
