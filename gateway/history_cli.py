"""``python -m gateway history [show N]|revert N``: the table's revisions, and undoing a bad flip.

- ``history``: the revisions newest first: number, time, what loaded it (and who, for a revert),
  and which routes changed how against the revision before (:func:`gateway.history.diff_tables`).
- ``history show N``: revision N's text, and what reverting to it would change now.
- ``revert N``: revision N's text through the same validation as ``check``; refused (exit 1,
  nothing written) when it fails. Otherwise recorded as a new revision (who, why) and written over
  the routing file atomically (temp file in the same directory + ``os.replace``, the mode kept): the
  running gateway's watcher reloads it like any edit, and in-flight requests finish on their table.

The revisions live where the gateway keeps them (``REDIS_URL``, else ``GATEWAY_STATE_DIR``).
"""

from __future__ import annotations

import argparse
import difflib
import getpass
import hashlib
import json
import os
import stat
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from gateway.errors import ConfigError
from gateway.history import Change, RouteSnapshot, diff_tables, snapshot_table
from gateway.loader import parse_table
from gateway.revision_log import build_revision_store
from gateway.revisions import Revision, RevisionStore, draft, write_atomically

#: The shortest prefix of a sha256 that ``--expect-current`` accepts.
MIN_HASH_PREFIX = 8


class HistoryError(Exception):
    """A refusal the operator can act on; the message says what and why (exit status 1)."""


def add_commands(commands: Any, config_default: str) -> None:
    history = commands.add_parser(
        "history", help="the routing table's revisions, newest first ('history show N': one of them)"
    )
    history.add_argument("what", nargs="*", metavar="show N", help="print revision N and its diff vs now")
    history.add_argument("--config", help=f"routing table (default: {config_default})")
    history.add_argument("--limit", type=int, default=20, help="how many revisions (default: 20)")
    _store_options(history)
    history.add_argument("--json", action="store_true", help="print JSON")

    revert = commands.add_parser("revert", help="write revision N back over the routing table, after check")
    revert.add_argument("number", type=int, help="the revision to restore (see `history`)")
    revert.add_argument("--config", help=f"routing table to overwrite (default: {config_default})")
    revert.add_argument("--reason", default="", help="why (kept with the revision)")
    revert.add_argument("--by", help="who (default: $USER)")
    revert.add_argument(
        "--expect-current", metavar="SHA256", help="refuse unless the table now has this sha256 (or prefix)"
    )
    _store_options(revert)
    revert.add_argument("--json", action="store_true", help="print JSON")


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="the gateway's state directory (default: $GATEWAY_STATE_DIR; REDIS_URL wins)",
    )


def open_store(args: argparse.Namespace) -> RevisionStore:
    from gateway.settings import GatewaySettings

    settings = GatewaySettings()
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url is not None else None
    state_dir = args.state_dir if args.state_dir is not None else settings.state_dir
    store = build_revision_store(
        redis_url=None if args.state_dir is not None else redis_url,
        state_dir=state_dir,
        prefix=settings.state_prefix,
        keep=settings.history_keep,
    )
    if store is None:
        raise HistoryError(
            "no state directory and no REDIS_URL: the gateway keeps no revisions "
            "(set GATEWAY_STATE_DIR, or pass --state-dir)"
        )
    return store


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _snapshot(revision: Revision) -> dict[str, RouteSnapshot] | None:
    try:
        return snapshot_table(parse_table(revision.text, source=f"revision {revision.number}"), revision.at)
    except ConfigError:
        return None


def _file_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _origin(revision: Revision) -> str:
    if revision.source == "revert":
        why = f": {revision.reason}" if revision.reason else ""
        return f"revert to #{revision.reverted_to} by {revision.by or '?'}{why}"
    return (
        f"{revision.source} reload of {revision.path}"
        if revision.source != "start"
        else f"start ({revision.path})"
    )


def cmd_history(args: argparse.Namespace, config: Path, out: TextIO) -> int:
    if args.what:
        if len(args.what) != 2 or args.what[0] != "show" or not args.what[1].isdigit():
            raise HistoryError("usage: history [show N]")
        return _show(open_store(args), int(args.what[1]), config, args.json, out)
    if args.limit < 1:
        raise HistoryError("--limit must be at least 1")
    store = open_store(args)
    revisions = store.recent(args.limit + 1)  # one more: the oldest shown is compared with its predecessor
    if not revisions:
        raise HistoryError(
            "no revisions recorded yet (has the gateway run with this state directory or Redis?)"
        )
    current = _file_text(config)
    current_sha = _sha(current) if current is not None else None
    snapshots = [_snapshot(revision) for revision in revisions]
    rows = []
    for position, revision in enumerate(revisions[: args.limit]):
        after = snapshots[position]
        if position + 1 < len(revisions):
            before = snapshots[position + 1]
        else:  # the oldest kept: the first ever is compared with nothing, a later one is unknown
            before = {} if revision.number == 1 else None
        changes = None if after is None or before is None else diff_tables(before, after)
        rows.append((revision, changes))
    if args.json:
        data = [
            {
                **revision.as_json(text=False),
                "current": revision.sha256 == current_sha,
                "changes": None if changes is None else [c.as_json() for c in changes],
            }
            for revision, changes in rows
        ]
        print(json.dumps({"file": str(config), "revisions": data}, indent=2), file=out)
        return 0
    for revision, changes in rows:
        mark = "  <- current" if revision.sha256 == current_sha else ""
        print(
            f"#{revision.number}  {_when(revision.at)}  {_origin(revision)}  "
            f"sha256 {revision.sha256[:12]}  {revision.host} pid {revision.pid}{mark}",
            file=out,
        )
        if changes is None:
            print("    (changes unknown: the revision before it was dropped, or does not parse)", file=out)
        elif not changes:
            print("    no route changed", file=out)
        for change in changes or ():
            print(f"    {change.kind} {change.route_id}: {change.detail}", file=out)
    return 0


def _get(store: RevisionStore, number: int) -> Revision:
    revision = store.get(number)
    if revision is None:
        kept = [r.number for r in store.recent(1_000_000)]
        span = f"kept: #{min(kept)}..#{max(kept)}" if kept else "none recorded yet"
        raise HistoryError(f"no revision #{number} ({span})")
    return revision


def _changes_from(current: str | None, revision: Revision) -> list[Change] | None:
    """What replacing the current table by ``revision`` changes, route by route (None: unparsable)."""
    after = _snapshot(revision)
    if after is None:
        return None
    if current is None:
        return diff_tables({}, after)
    try:
        before = snapshot_table(parse_table(current, source="current"), revision.at)
    except ConfigError:
        return diff_tables({}, after)
    return diff_tables(before, after)


def _show(store: RevisionStore, number: int, config: Path, as_json: bool, out: TextIO) -> int:
    revision = _get(store, number)
    current = _file_text(config)
    changes = _changes_from(current, revision)
    unified = "".join(
        difflib.unified_diff(
            (current or "").splitlines(keepends=True),
            revision.text.splitlines(keepends=True),
            fromfile=f"{config} (now)",
            tofile=f"revision #{number}",
        )
    )
    if as_json:
        data = {
            **revision.as_json(),
            "changes_from_current": None if changes is None else [c.as_json() for c in changes],
            "diff": unified,
        }
        print(json.dumps(data, indent=2), file=out)
        return 0
    print(f"# revision #{revision.number}, {_when(revision.at)}, {_origin(revision)}", file=out)
    print(f"# sha256 {revision.sha256}, {revision.host} pid {revision.pid}", file=out)
    print(revision.text, end="" if revision.text.endswith("\n") else "\n", file=out)
    print(f"# reverting to #{number} would change:", file=out)
    if not unified:
        print("#   nothing: it is the current table", file=out)
    for change in changes or ():
        print(f"#   {change.kind} {change.route_id}: {change.detail}", file=out)
    print(unified, end="", file=out)
    return 0


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
    revision = _get(store, number)
    target = config.resolve()  # a symlinked table is replaced where it lives, the link kept
    current = _file_text(target)
    if current is None and target.exists():
        raise HistoryError(f"cannot read the routing file {config}")
    if expect_current is not None:
        actual = _sha(current) if current is not None else ""
        if len(expect_current) < MIN_HASH_PREFIX or not actual.startswith(expect_current.lower()):
            raise HistoryError(
                f"the table changed since: {config} has sha256 {actual[:12] or '(no file)'}, "
                f"not {expect_current}; nothing written"
            )
    # The same validation as `python -m gateway check` (load_table is read + parse_table).
    parse_table(revision.text, source=str(config), environ=environ)
    if current is not None and _sha(current) == revision.sha256:
        return revision, None, []
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise HistoryError(f"cannot write {target.parent}: the routing file is not writable here")
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
    changes = _changes_from(current, revision)
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


def operator() -> str:
    for name in ("FIGWAY_OPERATOR", "USER", "LOGNAME"):
        value = os.environ.get(name)
        if value:
            return value
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def cmd_revert(args: argparse.Namespace, config: Path, out: TextIO, err: TextIO) -> int:
    store = open_store(args)
    try:
        revision, recorded, changes = revert(
            store,
            args.number,
            config,
            by=args.by or operator(),
            reason=args.reason,
            expect_current=args.expect_current,
        )
    except ConfigError as exc:
        for issue in exc.issues:
            print(str(issue), file=err)
        print(f"revision #{args.number}: {len(exc.issues)} error(s); nothing written", file=err)
        return 1
    if args.json:
        data = {
            "reverted_to": revision.number,
            "recorded": recorded.number if recorded is not None else None,
            "file": str(config),
            "sha256": revision.sha256,
            "changes": None if changes is None else [c.as_json() for c in changes],
        }
        print(json.dumps(data, indent=2), file=out)
        return 0
    if recorded is None:
        print(f"{config} already is revision #{revision.number}: nothing written", file=out)
        return 0
    print(
        f"{config}: reverted to revision #{revision.number} (recorded as #{recorded.number}, "
        f"by {recorded.by}); a running gateway reloads it from the file",
        file=out,
    )
    for change in changes or ():
        print(f"    {change.kind} {change.route_id}: {change.detail}", file=out)
    return 0
