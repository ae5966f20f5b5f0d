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
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from gateway.errors import ConfigError
from gateway.history import diff_tables
from gateway.revert import (
    HistoryError,
    changes_from,
    file_text,
    get_revision,
    revert,
    sha256_of,
    snapshot_of,
)
from gateway.revision_log import build_revision_store
from gateway.revisions import Revision, RevisionStore


def add_commands(commands: Any, config_default: str) -> None:
    history = commands.add_parser(
        "history", help="the routing table's revisions, newest first ('history show N': one of them)"
    )
    history.add_argument("what", nargs="*", metavar="show N", help="print revision N and its diff vs now")
    history.add_argument("--config", help=f"routing table (default: {config_default})")
    history.add_argument("--limit", type=int, default=20, help="how many revisions (default: 20)")
    _store_options(history)
    history.add_argument("--json", action="store_true", help="print JSON")
    history.add_argument(
        "--raw", action="store_true", help="with show: only the revision's text, byte for byte (to a file)"
    )

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
        if args.raw:
            out.write(get_revision(open_store(args), int(args.what[1])).text)
            return 0
        return _show(open_store(args), int(args.what[1]), config, args.json, out)
    if args.limit < 1:
        raise HistoryError("--limit must be at least 1")
    store = open_store(args)
    revisions = store.recent(args.limit + 1)  # one more: the oldest shown is compared with its predecessor
    if not revisions:
        raise HistoryError(
            "no revisions recorded yet (has the gateway run with this state directory or Redis?)"
        )
    current = file_text(config)
    current_sha = sha256_of(current) if current is not None else None
    snapshots = [snapshot_of(revision) for revision in revisions]
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


def _show(store: RevisionStore, number: int, config: Path, as_json: bool, out: TextIO) -> int:
    revision = get_revision(store, number)
    current = file_text(config)
    changes = changes_from(current, revision)
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
