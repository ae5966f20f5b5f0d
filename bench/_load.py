"""Helpers the service benchmarks share: servers as process groups, wrk with a Lua script,
peak RSS of a process tree sampled while it runs."""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.gateway import WRK, _ms


@dataclass
class Load:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def wrk(
    url: str,
    connections: int,
    seconds: int,
    *,
    script: Path | None = None,
    timeout: int = 60,
    cpu: int | None = None,
) -> Load:
    """One wrk run; `cpu` pins wrk to that CPU (taskset)."""
    threads = 1 if connections == 1 else 2
    args = [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s", "--latency"]
    if script is not None:
        args += ["-s", str(script)]
    args.append(url)
    if cpu is not None:
        from bench._fair import pinned

        args = pinned(args, cpu)
    output = subprocess.run(args, capture_output=True, text=True, check=True).stdout

    def grab(pattern: str) -> str:
        found = re.search(pattern, output, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"unexpected wrk output:\n{output}")
        return found.group(1)

    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", output))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        errors += sum(int(g) for g in socket.groups())
    return Load(
        requests_per_s=float(grab(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(grab(r"^\s+50%\s+(\S+)")),
        p99_ms=_ms(grab(r"^\s+99%\s+(\S+)")),
        errors=errors,
        requests=int(grab(r"(\d+) requests in")),
    )


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of `pid` and its children so far."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def tree_rss(pid: int, *, only: set[int] | None = None) -> int:
    """RSS of `pid` and its children; `only` restricts it to those pids (the server's own
    long-lived processes: a command child caught between vfork and exec would count the
    parent's memory twice)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            if only is not None and proc.pid not in only:
                continue
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


@contextmanager
def peak_rss(pid: int, every: float = 0.2, *, servers_only: bool = False) -> Iterator[list[int]]:
    """Yields a one-element list holding the peak RSS (bytes) of `pid` and its children
    (`servers_only`: just the processes that exist when measuring starts)."""
    only: set[int] | None = None
    if servers_only:
        root = psutil.Process(pid)
        only = {pid, *(child.pid for child in root.children(recursive=True))}
    peak = [tree_rss(pid, only=only)]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(every):
            peak[0] = max(peak[0], tree_rss(pid, only=only))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()


@contextmanager
def server(
    args: list[str], port: int, *, env: dict[str, str], log: Path, cwd: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A server program in its own process group, stopped (SIGTERM, then SIGKILL) afterwards."""
    import os
    import signal

    from bench.gateway import wait_for

    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=out, start_new_session=True
        )
        try:
            wait_for(port, timeout=60)
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
