"""Every routing table the gateway loaded, kept as a numbered revision you can read and revert to.

A revision holds the whole routing.yaml text, its sha256, when, and who or what loaded it (the
trigger: ``start``, ``file``, ``sighup``, ``api``, ``revert``; the file; the host and pid; the
operator and reason of a revert). Two stores, one numbering rule (numbers never collide):

- :class:`FileRevisionStore`: ``<state_dir>/history/``, one JSON file per revision and an index,
  each written atomically (temp file + rename) under an exclusive ``flock``: the workers of one
  host and the CLI share it.
- :class:`~gateway.revisions_redis.RedisRevisionStore`: numbered by ``INCR`` in one Lua script,
  shared by every replica (``REDIS_URL``).

:mod:`gateway.revision_log` picks the store and records what the gateway loads.

A table equal to the newest revision is not recorded again: every worker and replica reloads the
same edit, and the first one to record it numbers it. Both stores keep the newest ``keep`` only.
The stores are synchronous (the CLI uses them as they are); the gateway calls them in a thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

DEFAULT_KEEP = 200
_INDEX = "index.json"


@dataclass(frozen=True, slots=True)
class Revision:
    number: int
    at: float
    sha256: str
    #: What loaded the table: start, file, sighup, api (a reload), revert.
    source: str
    text: str
    path: str = ""
    host: str = ""
    pid: int = 0
    #: The operator (a revert's $USER or --by); "" for the gateway's own reloads.
    by: str = ""
    reason: str = ""
    #: The revision a revert wrote back.
    reverted_to: int | None = None

    def as_json(self, *, text: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not text:
            del data["text"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Revision:
        reverted = data.get("reverted_to")
        return cls(
            int(data["number"]),
            float(data["at"]),
            str(data["sha256"]),
            str(data["source"]),
            str(data["text"]),
            str(data.get("path", "")),
            str(data.get("host", "")),
            int(data.get("pid", 0)),
            str(data.get("by", "")),
            str(data.get("reason", "")),
            int(reverted) if reverted is not None else None,
        )


def draft(
    *,
    at: float,
    sha256: str,
    source: str,
    text: str,
    path: str,
    by: str = "",
    reason: str = "",
    reverted_to: int | None = None,
) -> Revision:
    """A revision before its store numbers it (number 0), stamped with this host and process."""
    return Revision(
        0, at, sha256, source, text, path, socket.gethostname(), os.getpid(), by, reason, reverted_to
    )


class RevisionStore(Protocol):
    def append(self, revision: Revision, *, unless_newest: bool = True) -> Revision | None:
        """Number and keep ``revision``; None when ``unless_newest`` and the newest has its sha256."""
        ...

    def get(self, number: int) -> Revision | None: ...

    def recent(self, limit: int) -> list[Revision]:
        """The newest ``limit`` revisions, newest first."""
        ...

    def close(self) -> None: ...


class FileRevisionStore:
    """Revisions as files in one directory, numbered under an exclusive lock."""

    def __init__(self, directory: Path, *, keep: int = DEFAULT_KEEP) -> None:
        self.directory = directory
        self.keep = keep

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield self._index()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _index(self) -> dict[str, Any]:
        try:
            data = json.loads((self.directory / _INDEX).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {"next": 1, "numbers": [], "newest_sha256": ""}
        return {
            "next": int(data.get("next", 1)),
            "numbers": [int(n) for n in data.get("numbers", [])],
            "newest_sha256": str(data.get("newest_sha256", "")),
        }

    def _file(self, number: int) -> Path:
        return self.directory / f"{number:08d}.json"

    def append(self, revision: Revision, *, unless_newest: bool = True) -> Revision | None:
        with self._locked() as index:
            if unless_newest and index["numbers"] and index["newest_sha256"] == revision.sha256:
                return None
            numbered = replace(revision, number=index["next"])
            write_atomically(self._file(numbered.number), json.dumps(numbered.as_json(), indent=1))
            numbers = [*index["numbers"], numbered.number]
            dropped, kept = numbers[: -self.keep], numbers[-self.keep :]
            index = {"next": numbered.number + 1, "numbers": kept, "newest_sha256": numbered.sha256}
            write_atomically(self.directory / _INDEX, json.dumps(index))
            for number in dropped:
                self._file(number).unlink(missing_ok=True)
            return numbered

    def get(self, number: int) -> Revision | None:
        # Files are replaced whole (rename), so a reader needs no lock.
        try:
            return Revision.from_json(json.loads(self._file(number).read_text(encoding="utf-8")))
        except (FileNotFoundError, ValueError, KeyError):
            return None

    def recent(self, limit: int) -> list[Revision]:
        numbers = self._index()["numbers"][::-1][:limit]
        return [rev for rev in (self.get(n) for n in numbers) if rev is not None]

    def close(self) -> None:
        return None


def write_atomically(path: Path, text: str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``text``: a temp file in the same directory, fsync, then ``os.replace``.

    A reader (or the gateway's watcher) sees the old file or the new one, never a half-written one.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
