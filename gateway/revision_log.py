"""Record every table the gateway loads as a revision (:mod:`gateway.revisions`), off the event loop.

The text recorded is the file read again and checked against the loaded table's sha256: when the
file moved on in between, nothing is recorded now (the reload that follows records the newer text).
A store that fails (Redis down, disk full) is logged and never takes the gateway down.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import structlog
from redis.exceptions import RedisError

from gateway.compiler import CompiledTable
from gateway.revisions import DEFAULT_KEEP, FileRevisionStore, Revision, RevisionStore, draft
from gateway.revisions_redis import RedisRevisionStore

log = structlog.get_logger("gateway.history")


def build_revision_store(
    *,
    redis_url: str | None = None,
    state_dir: Path | None = None,
    prefix: str = "figway",
    keep: int = DEFAULT_KEEP,
) -> RevisionStore | None:
    """Redis when configured (every replica), else the state directory; None without either."""
    if redis_url:
        return RedisRevisionStore(redis_url, prefix=prefix, keep=keep)
    if state_dir is not None:
        return FileRevisionStore(state_dir / "history", keep=keep)
    return None


def record_loaded(store: RevisionStore, table: CompiledTable, source: str) -> Revision | None:
    """Keep ``table`` as a revision unless it is the newest already. Blocking: call it in a thread."""
    try:
        text = Path(table.source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        log.error("history.unreadable", file=table.source, error=str(exc))
        return None
    if hashlib.sha256(text.encode()).hexdigest() != table.sha256:
        log.info("history.file_moved_on", file=table.source, loaded=table.sha256)
        return None
    revision = draft(at=time.time(), sha256=table.sha256, source=source, text=text, path=table.source)
    try:
        recorded = store.append(revision)
    except (OSError, RedisError, ValueError) as exc:
        log.error("history.unavailable", file=table.source, error=str(exc))
        return None
    if recorded is not None:
        log.info("history.revision", number=recorded.number, source=source, sha256=table.sha256)
    return recorded
