"""Command line: `python -m legacy_flask init-db | seed [--if-empty] | serve`, like MVidarr's app.py main."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from legacy_flask.config import load_config
from legacy_flask.database import init_db, make_engine


def _prepare(config: dict[str, str]) -> None:
    """Create the directory of a SQLite file (var/ on a fresh clone)."""
    url = make_url(config["DATABASE_URL"])
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _init_db(_args: argparse.Namespace) -> int:
    config = load_config()
    _prepare(config)
    engine = make_engine(config["DATABASE_URL"])
    init_db(engine)
    engine.dispose()
    print("legacy_flask: tables created")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from legacy_flask.seed import has_users, seed

    config = load_config()
    _prepare(config)
    engine = make_engine(config["DATABASE_URL"])
    try:
        if args.if_empty and has_users(engine):
            print("seed: users exist, nothing to do (--if-empty)")
            return 0
        started = time.monotonic()
        counts = seed(
            engine,
            scale=args.scale,
            password=config["FIGWAY_DEMO_PASSWORD"],
            progress=lambda line: print(line, flush=True),
        )
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        print(f"seed: done in {time.monotonic() - started:.1f}s ({summary})")
    finally:
        engine.dispose()
    return 0


def _serve(args: argparse.Namespace) -> int:
    from werkzeug.serving import run_simple

    from legacy_flask.app import create_app

    _prepare(load_config())
    app = create_app({"INIT_DB": True})
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m legacy_flask", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init-db", help="create the tables").set_defaults(func=_init_db)
    seed = commands.add_parser("seed", help="replace the data with the deterministic demo set")
    seed.add_argument("--if-empty", action="store_true", help="do nothing when users exist")
    seed.add_argument("--scale", type=float, default=1.0, help="fraction of the full data set")
    seed.set_defaults(func=_seed)
    serve = commands.add_parser("serve", help="run the threaded werkzeug server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.set_defaults(func=_serve)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
