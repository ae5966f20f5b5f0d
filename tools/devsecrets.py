"""`python -m tools.devsecrets [FILE]`: random secrets for `make run`, generated once.

`make run` used to start every program with the development key from the source code, so
anyone could forge a demo session cookie or token. This writes `var/secrets.env` (var/ is never
committed) with a random `MVIDARR_SECRET_KEY` and a separate random `JWT_SECRET` the first time,
and leaves it alone afterwards (existing logins survive a restart). A variable already set in
the environment is not written: the operator's value wins.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

DEFAULT_FILE = Path("var/secrets.env")
GENERATED = ("MVIDARR_SECRET_KEY", "JWT_SECRET")


def ensure(path: Path, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Create `path` with the missing secrets; the names written (empty when it existed)."""
    if path.exists():
        return []
    names = [name for name in GENERATED if not environ.get(name)]
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{name}={secrets.token_urlsafe(48)}" for name in names]
    # Created private: the file holds the keys that sign every session and token of the demo.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# Generated once by `make run` (tools/devsecrets.py); never commit.\n")
        handle.write("".join(line + "\n" for line in lines))
    return names


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(args[0]) if args else DEFAULT_FILE
    written = ensure(path)
    if written:
        print(f"devsecrets: wrote {', '.join(written)} to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
