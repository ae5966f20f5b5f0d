"""Starting a child without blocking the event loop, on any loop (asyncio or uvloop).

The one module of services that imports `subprocess`, and only for `Popen`, called in a
worker thread: CPython's `Popen` starts the child with vfork+exec, which costs the same small
amount whatever the parent's size, whereas uvloop's own spawn forks the whole (large) server
process — measured here at ~14 ms of loop-blocking work per command against ~2 ms.
Once started, everything is awaited on the loop: the pipes through `connect_read_pipe`, the
exit through a pidfd (Linux 5.3+; a short poll elsewhere). Nothing here waits in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess  # Popen only, in a worker thread; see the module docstring
from pathlib import Path
from typing import IO

EXIT_POLL = 0.02


class _OwnedFd:
    """A pipe end for `connect_read_pipe`: `fileno()`, and a `close()` that acts once."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._closed = False

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):
                os.close(self._fd)


class Child:
    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen
        self.pid = popen.pid

    @classmethod
    async def start(cls, argv: tuple[str, ...], cwd: Path | None) -> Child:
        def spawn() -> subprocess.Popen[bytes]:
            return subprocess.Popen(  # noqa: S603 - argv list from the allow-listed runner, no shell
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                close_fds=True,
                start_new_session=True,  # its own process group: a timeout kills the whole tree
            )

        return cls(await asyncio.to_thread(spawn))

    async def stream(self, which: str) -> asyncio.StreamReader:
        """An asyncio reader over the child's stdout or stderr pipe (the transport owns it)."""
        pipe: IO[bytes] | None = self._popen.stdout if which == "stdout" else self._popen.stderr
        assert pipe is not None
        # Hand the transport a descriptor nobody else will close: uvloop closes the fd itself,
        # asyncio through `.close()`; the Popen's file object would close it a second time.
        owned = _OwnedFd(os.dup(pipe.fileno()))
        pipe.close()
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2**20)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), owned)
        return reader

    async def wait(self) -> int:
        """The exit status, awaited on the loop; reaps the child."""
        code = self._popen.poll()
        if code is not None:
            return code
        try:
            pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            pidfd = None
        if pidfd is None:
            while (code := self._popen.poll()) is None:  # noqa: ASYNC110 - no pidfd on this kernel
                await asyncio.sleep(EXIT_POLL)
            return code
        loop = asyncio.get_running_loop()
        exited: asyncio.Future[None] = loop.create_future()

        def on_exit() -> None:
            if not exited.done():
                exited.set_result(None)

        loop.add_reader(pidfd, on_exit)
        try:
            await exited  # a pidfd turns readable when its process exits, and stays so
        finally:
            loop.remove_reader(pidfd)
            os.close(pidfd)
        code = self._popen.poll()  # exited, so this reaps it at once
        return code if code is not None else -1

    def close(self) -> None:
        for pipe in (self._popen.stdout, self._popen.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
