from __future__ import annotations

import io
import json

import structlog

from services.logs import REDACTED, configure_logging


def test_json_lines_carry_event_level_and_timestamp() -> None:
    stream = io.StringIO()
    configure_logging(level="info", log_format="json", stream=stream)
    structlog.get_logger("t").info("provider.request", provider="spotify", status=200)
    line = json.loads(stream.getvalue().strip())
    assert line["event"] == "provider.request"
    assert line["level"] == "info"
    assert line["provider"] == "spotify"
    assert line["timestamp"].endswith("Z")


def test_secret_values_are_redacted_whatever_the_caller_passes() -> None:
    stream = io.StringIO()
    configure_logging(level="info", log_format="json", stream=stream)
    structlog.get_logger("t").warning(
        "auth.login",
        username="admin",
        password="Figway-demo-1",
        refresh_token="abc",
        Authorization="Bearer x",
    )
    text = stream.getvalue()
    line = json.loads(text.strip())
    assert line["username"] == "admin"
    assert line["password"] == line["refresh_token"] == line["Authorization"] == REDACTED
    assert "Figway-demo-1" not in text and "Bearer x" not in text


def test_level_filter_drops_debug_lines() -> None:
    stream = io.StringIO()
    configure_logging(level="warning", log_format="json", stream=stream)
    structlog.get_logger("t").info("quiet")
    structlog.get_logger("t").error("loud")
    assert [json.loads(x)["event"] for x in stream.getvalue().splitlines()] == ["loud"]


def test_an_existing_configuration_is_kept_when_asked() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(level="info", log_format="json", stream=first)
    configure_logging(level="info", log_format="json", stream=second, keep_existing=True)
    structlog.get_logger("t").info("kept")
    assert "kept" in first.getvalue() and second.getvalue() == ""
