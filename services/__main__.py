"""`python -m services serve [--host H] [--port 8001] [--workers N] [--no-access-log]` | `migrate`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from services.settings import Settings


def _parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services", description="figway async services")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API with uvicorn")
    serve.add_argument("--host", default=settings.host)
    serve.add_argument("--port", type=int, default=settings.port)
    serve.add_argument("--workers", type=int, default=settings.workers)
    serve.add_argument(
        "--no-access-log", action="store_true", help="no per-request log line (the gateway logs access)"
    )
    migrate = sub.add_parser("migrate", help="apply Alembic migrations (services-owned tables only)")
    migrate.add_argument("revision", nargs="?", default="head")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    settings = Settings()
    args = _parser(settings).parse_args(argv)
    if args.command == "migrate":
        from services.migrate import upgrade

        upgrade(settings, args.revision)
        return 0
    import uvicorn

    uvicorn.run(
        "services.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        # uvicorn trusts 127.0.0.1 by default; the services' own TRUSTED_PROXIES must be the one rule.
        forwarded_allow_ips=",".join(settings.trusted_proxies),
        access_log=not args.no_access_log,
        timeout_graceful_shutdown=settings.shutdown_timeout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
