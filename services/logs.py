"""structlog set-up for the services: JSON lines in production, console when stderr is a terminal.

Every event passes through `redact` first, so a secret handed to a logger by mistake (a password,
a token, an API key, an Authorization header) is written as "[redacted]", never in clear.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
#: Substrings of event keys whose values are never written.
SECRET_MARKERS = ("password", "secret", "token", "authorization", "api_key", "apikey", "cookie")
REDACTED = "[redacted]"


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in event:
        if key != "event" and any(marker in key.lower() for marker in SECRET_MARKERS):
            event[key] = REDACTED
    return event


def configure_logging(
    *,
    level: str = "info",
    log_format: str = "auto",
    stream: TextIO | None = None,
    keep_existing: bool = False,
) -> None:
    """Configure structlog for this process (each uvicorn worker calls it from the lifespan).

    `keep_existing` leaves a configuration someone else made alone: an embedding process, or a
    test capturing log events, decides for itself.
    """
    if keep_existing and structlog.is_configured():
        return
    stream = stream or sys.stderr
    console = log_format == "console" or (log_format == "auto" and stream.isatty())
    renderer: Any = structlog.dev.ConsoleRenderer() if console else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            redact,
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS.get(level.lower(), logging.INFO)),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
