"""structlog set-up: JSON lines in production, a console renderer when stderr is a terminal."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


_stream: Any = None


def configure_logging(*, log_format: str = "auto", level: str = "info", stream: Any = None) -> None:
    global _stream
    stream = stream or sys.stderr
    _stream = stream
    console = log_format == "console" or (log_format == "auto" and stream.isatty())
    renderer: Any = structlog.dev.ConsoleRenderer() if console else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


class LineBuffer:
    """A file-like sink that collects log lines and writes them in batches.

    The access log writes one line per request; a write and flush system call each time cost more
    than the gateway's own work per request. Lines are written when ``limit`` bytes have piled up
    and by ``drain``, which the gateway calls a few times a second and at shutdown.
    """

    def __init__(self, stream: Any, limit: int = 64 * 1024) -> None:
        self._stream = stream
        self._limit = limit
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= self._limit:
            self.drain()
        return len(text)

    def flush(self) -> None:
        """Called by structlog after every line: batching is the point, so nothing happens here."""

    def drain(self) -> None:
        if not self._parts:
            return
        text = "".join(self._parts)
        self._parts.clear()
        self._size = 0
        self._stream.write(text)
        self._stream.flush()


def buffered_logger() -> tuple[Any, LineBuffer]:
    """A logger with the configured processors whose lines go through a ``LineBuffer``."""
    config = structlog.get_config()
    buffer = LineBuffer(_stream or sys.stderr)
    logger = structlog.wrap_logger(
        structlog.WriteLogger(buffer),  # type: ignore[arg-type]
        processors=config["processors"],
        wrapper_class=config["wrapper_class"],
    )
    return logger.bind(), buffer
