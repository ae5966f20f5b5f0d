from __future__ import annotations

import io
import json

from gateway.logs import LineBuffer, buffered_logger, configure_logging


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_console_rendering_when_attached_to_a_terminal() -> None:
    stream = Terminal()
    configure_logging(stream=stream)
    try:
        logger, buffer = buffered_logger()
        logger.info("proxy.request", route="r")
        buffer.drain()
    finally:
        configure_logging(log_format="json")
    line = stream.getvalue()
    assert "proxy.request" in line
    assert not line.lstrip().startswith("{")


def test_json_lines_otherwise() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    try:
        logger, buffer = buffered_logger()
        logger.info("proxy.request", route="r", status=200)
        assert stream.getvalue() == ""  # batched until drained
        buffer.drain()
    finally:
        configure_logging(log_format="json")
    event = json.loads(stream.getvalue())
    assert event["event"] == "proxy.request"
    assert event["status"] == 200
    assert event["level"] == "info"
    assert "timestamp" in event


def test_line_buffer_writes_when_full() -> None:
    stream = io.StringIO()
    buffer = LineBuffer(stream, limit=10)
    buffer.write("12345")
    assert stream.getvalue() == ""
    buffer.write("678901\n")
    assert stream.getvalue() == "12345678901\n"


def test_access_renderer_writes_the_same_json_as_structlog() -> None:
    from gateway.logs import AccessJSONRenderer

    renderer = AccessJSONRenderer()
    event = {
        "path": '/a"b\u00e9\n',
        "status": 200,
        "ms": 1.5,
        "none": None,
        "ok": True,
        "no": False,
        "l": [1],
    }
    line = renderer(None, "info", dict(event, event="proxy.request"))
    parsed = json.loads(line)
    assert {k: parsed[k] for k in event} == event
    assert parsed["event"] == "proxy.request"
    assert parsed["level"] == "info"
    assert parsed["timestamp"].endswith("Z") and "T" in parsed["timestamp"]
