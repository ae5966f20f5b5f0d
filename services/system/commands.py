"""The one way services run a system command: `await runner.run(["df", "-P", "-k", path])`.

- Argument lists only. There is no shell anywhere, so an argument holding spaces, quotes or
  `;` reaches the program as that one argument, never as shell syntax.
- Only executables named in the allow-list (`Settings.system_command_allowlist`) start;
  anything else is `refused` without being looked up.
- Each command runs in a new session (its own process group). On timeout, or if the caller
  is cancelled, the whole group is killed (SIGKILL to -pgid), so children and grandchildren
  go too, and the child is reaped.
- stdout and stderr are read concurrently, each kept up to `max_output` bytes; the rest is
  drained and dropped (a chatty child never blocks on a full pipe) and `truncated` is set.
- A semaphore bounds how many commands run at once; callers beyond it wait their turn.
- A missing executable (no `systemctl` in a container) is an `unavailable` result, not an
  exception. Nothing here raises for a command's own failure.
- One `system.command` structlog event and one metrics sample per call.

Why not a thread pool running `subprocess.run`: the event loop waits on the pipes and on the
child's exit itself (see `_spawn.Child`), so 32 slow commands cost a few idle file
descriptors each instead of 32 parked threads, and a timeout kills the process group at once.
Only the start (vfork+exec, ~1 ms) happens in a worker thread: `asyncio.create_subprocess_exec`
under uvloop forks the whole server process inside the loop (~14 ms each, measured), which
is what `bench system` exposed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import structlog
from prometheus_client import Counter, Gauge, Histogram

from services.system._spawn import Child

log = structlog.get_logger("services.system")

Status = Literal["ok", "failed", "timeout", "unavailable", "refused"]
READ_CHUNK = 64 * 1024

COMMANDS = Counter("figway_system_commands_total", "System commands run, by outcome", ["command", "status"])
DURATION = Histogram(
    "figway_system_command_seconds",
    "System command wall time",
    ["command"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
TIMEOUTS = Counter("figway_system_command_timeouts_total", "System commands killed on timeout", ["command"])
FAILURES = Counter(
    "figway_system_command_failures_total", "System commands that did not succeed", ["command"]
)
IN_FLIGHT = Gauge("figway_system_commands_in_flight", "System commands running now")


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    status: Status
    returncode: int | None
    stdout: str
    stderr: str
    duration: float
    truncated: bool = False
    error: str | None = None  # worded as legacy words it ("df: command not found", ...)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class _Capped:
    """Keeps the first `limit` bytes of a stream and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.kept = 0
        self.dropped = 0

    async def drain(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while chunk := await stream.read(READ_CHUNK):
            room = self.limit - self.kept
            if room > 0:
                self.chunks.append(chunk[:room])
                self.kept += min(room, len(chunk))
            self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", "replace")


class CommandRunner:
    def __init__(
        self,
        *,
        allowed: Iterable[str],
        timeout: float,
        max_output: int,
        concurrency: int,
        cwd: Path | None = None,
    ) -> None:
        self.allowed = frozenset(allowed)
        self.timeout = timeout
        self.max_output = max_output
        self.cwd = cwd
        self._slots = asyncio.Semaphore(concurrency)

    async def run(
        self, argv: Sequence[str], *, time_limit: float | None = None, cwd: Path | None = None
    ) -> CommandResult:
        argv = tuple(argv)
        if not argv or not all(isinstance(a, str) for a in argv):
            raise TypeError("argv must be a non-empty sequence of strings")
        name = argv[0]
        started = time.monotonic()
        if name not in self.allowed:
            return self._finish(argv, "refused", None, "", "", started, error=f"{name}: not allowed")
        async with self._slots:
            IN_FLIGHT.inc()
            try:
                return await self._run(argv, time_limit or self.timeout, cwd or self.cwd, started)
            finally:
                IN_FLIGHT.dec()

    async def _run(
        self, argv: tuple[str, ...], time_limit: float, cwd: Path | None, started: float
    ) -> CommandResult:
        name = argv[0]
        try:
            child = await Child.start(argv, cwd)
        except FileNotFoundError:
            return self._finish(
                argv, "unavailable", None, "", "", started, error=f"{name}: command not found"
            )
        except OSError as exc:  # not executable, not a directory, ...
            return self._finish(
                argv, "unavailable", None, "", "", started, error=f"{name}: {exc.strerror or exc}"
            )
        out, err = _Capped(self.max_output), _Capped(self.max_output)
        try:
            stdout, stderr = await child.stream("stdout"), await child.stream("stderr")
            code = await asyncio.wait_for(
                _collect(out.drain(stdout), err.drain(stderr), child.wait()), time_limit
            )
        except TimeoutError:
            await _kill_group(child)
            return self._finish(
                argv, "timeout", None, out.text(), err.text(), started,
                dropped=out.dropped + err.dropped, error=f"{name}: timed out after {time_limit:g}s",
            )  # fmt: skip
        except BaseException:  # cancelled: the caller went away, the command must not outlive it
            await _kill_group(child)
            raise
        finally:
            child.close()
        # A normal exit leaves the group alone: a restart script may have started a daemon
        # (with its output redirected) that must outlive the script.
        status: Status = "ok" if code == 0 else "failed"
        text_out, text_err = out.text(), err.text()
        error = None if code == 0 else (text_err.strip() or text_out.strip() or f"exit {code}")
        dropped = out.dropped + err.dropped
        return self._finish(argv, status, code, text_out, text_err, started, dropped=dropped, error=error)

    def _finish(
        self,
        argv: tuple[str, ...],
        status: Status,
        returncode: int | None,
        stdout: str,
        stderr: str,
        started: float,
        *,
        dropped: int = 0,
        error: str | None = None,
    ) -> CommandResult:
        duration = time.monotonic() - started
        name = argv[0]
        COMMANDS.labels(name, status).inc()
        DURATION.labels(name).observe(duration)
        if status == "timeout":
            TIMEOUTS.labels(name).inc()
        if status != "ok":
            FAILURES.labels(name).inc()
        log.info(
            "system.command",
            command=name,
            argc=len(argv),
            status=status,
            returncode=returncode,
            duration_ms=round(duration * 1000, 1),
            stdout_bytes=len(stdout),
            stderr_bytes=len(stderr),
            truncated=dropped > 0,
            dropped_bytes=dropped,
        )
        return CommandResult(argv, status, returncode, stdout, stderr, duration, dropped > 0, error)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def _kill_group(child: Child) -> None:
    _signal_group(child.pid, signal.SIGKILL)
    await child.wait()


async def _collect(drain_out: Awaitable[None], drain_err: Awaitable[None], exited: Awaitable[int]) -> int:
    _, _, code = await asyncio.gather(drain_out, drain_err, exited)
    return code
