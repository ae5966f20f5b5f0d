"""Reverting the routing table to a kept revision (:mod:`gateway.revisions`): checked, recorded, atomic.

Used by ``python -m gateway revert N`` and ``POST /_gateway/api/history/{n}/revert``. Revision N's
text goes through the same validation as ``python -m gateway check`` (``load_table`` is a read plus
:func:`~gateway.loader.parse_table`); a failure raises the check's ``ConfigError`` and nothing is
written. Otherwise the revert is recorded first (so the gateways' reload of the same text finds it
newest and does not record it again as a plain file reload: the history says who and why), then
the text replaces the file atomically (temp file in the same directory + ``os.replace``, mode kept).
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Mapping
from pathlib import Path

from gateway.errors import ConfigError
from gateway.history import Change, RouteSnapshot, diff_tables, snapshot_table
from gateway.loader import parse_table
from gateway.revisions import Revision, RevisionStore, draft, write_atomically

#: The shortest prefix of a sha256 that ``--expect-current`` accepts.
MIN_HASH_PREFIX = 8


class HistoryError(Exception):
    """A refusal the operator can act on; the message says what and why (exit status 1)."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        #: The revision asked for is not kept (the admin API's 404).
        self.missing = missing


def snapshot_of(revision: Revision) -> dict[str, RouteSnapshot] | None:
    try:
        return snapshot_table(parse_table(revision.text, source=f"revision {revision.number}"), revision.at)
    except ConfigError:
        return None


def file_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def get_revision(store: RevisionStore, number: int) -> Revision:
    revision = store.get(number)
    if revision is None:
        kept = [r.number for r in store.recent(1_000_000)]
        span = f"kept: #{min(kept)}..#{max(kept)}" if kept else "none recorded yet"
        raise HistoryError(f"no revision #{number} ({span})", missing=True)
    return revision


def changes_from(current: str | None, revision: Revision) -> list[Change] | None:
    """What replacing the current table by ``revision`` changes, route by route (None: unparsable)."""
    after = snapshot_of(revision)
    if after is None:
        return None
    if current is None:
        return diff_tables({}, after)
    try:
        before = snapshot_table(parse_table(current, source="current"), revision.at)
    except ConfigError:
        return diff_tables({}, after)
    return diff_tables(before, after)


def revert(
    store: RevisionStore,
    number: int,
    config: Path,
    *,
    by: str,
    reason: str = "",
    expect_current: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Revision, Revision | None, list[Change] | None]:
    """Check revision ``number`` and write it over ``config``: (the revision, the one recorded, changes).

    The recorded revision is None when the table already is revision ``number`` (nothing written).
    Raises :class:`HistoryError` (nothing written) or ``ConfigError`` (the check's issues).
    """
    revision = get_revision(store, number)
    target = config.resolve()  # a symlinked table is replaced where it lives, the link kept
    current = file_text(target)
    if current is None and target.exists():
        raise HistoryError(f"cannot read the routing file {config}")
    if expect_current is not None:
        actual = sha256_of(current) if current is not None else ""
        if len(expect_current) < MIN_HASH_PREFIX or not actual.startswith(expect_current.lower()):
            raise HistoryError(
                f"the table changed since: {config} has sha256 {actual[:12] or '(no file)'}, "
                f"not {expect_current}; nothing written"
            )
    # The same validation as `python -m gateway check` (load_table is read + parse_table).
    parse_table(revision.text, source=str(config), environ=environ)
    if current is not None and sha256_of(current) == revision.sha256:
        return revision, None, []
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise HistoryError(f"cannot write {target.parent}: the routing file is not writable here")
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
    changes = changes_from(current, revision)
    # Recorded before the write: the gateway's reload then finds it newest and does not record the
    # same text again as a plain file reload, so the history says who reverted and why.
    recorded = store.append(
        draft(
            at=time.time(),
            sha256=revision.sha256,
            source="revert",
            text=revision.text,
            path=str(config),
            by=by,
            reason=reason,
            reverted_to=number,
        ),
        unless_newest=False,
    )
    try:
        write_atomically(target, revision.text, mode=mode)
    except OSError as exc:
        raise HistoryError(f"cannot write {target}: {exc}") from None
    return revision, recorded, changes
