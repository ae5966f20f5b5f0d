"""structlog set-up: JSON lines in production, a console renderer when stderr is a terminal."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

import structlog

_encode_str = json.encoder.encode_basestring_ascii

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


_stream: Any = None
_console = False


def configure_logging(*, log_format: str = "auto", level: str = "info", stream: Any = None) -> None:
    global _stream, _console
    stream = stream or sys.stderr
    _stream = stream
    console = log_format == "console" or (log_format == "auto" and stream.isatty())
    _console = console
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


class AccessJSONRenderer:
    """The JSON renderer of the access log: the same line ``JSONRenderer`` writes, at a third of its cost.

    One line per request is the gateway's most frequent work after forwarding itself. The values are
    known to be str, int, float, bool or None, so each is encoded on its own by the C string encoder
    and the timestamp's seconds part is formatted once per second.
    """

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, _logger: Any, method: str, event: dict[str, Any]) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        event["level"] = method
        event["timestamp"] = f"{self._prefix}.{int((now - second) * 1_000_000):06d}Z"
        parts = []
        for key, value in event.items():
            if isinstance(value, str):
                encoded = _encode_str(value)
            elif value is None:
                encoded = "null"
            elif value is True:
                encoded = "true"
            elif value is False:
                encoded = "false"
            elif isinstance(value, int | float):
                encoded = repr(value)
            else:
                encoded = json.dumps(value, default=str)
            parts.append(f"{_encode_str(key)}: {encoded}")
        return "{" + ", ".join(parts) + "}"


def buffered_logger() -> tuple[Any, LineBuffer]:
    """The access logger: configured level and renderer, lines batched through a ``LineBuffer``."""
    config = structlog.get_config()
    buffer = LineBuffer(_stream or sys.stderr)
    processors: list[Any] = config["processors"] if _console else [AccessJSONRenderer()]
    logger = structlog.wrap_logger(
        structlog.WriteLogger(buffer),  # type: ignore[arg-type]
        processors=processors,
        wrapper_class=config["wrapper_class"],
    )
    return logger.bind(), buffer
