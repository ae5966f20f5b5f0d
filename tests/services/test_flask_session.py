"""The services read and write Flask's session cookie byte-compatibly, without Flask."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from flask import Flask
from markupsafe import Markup

from services.auth.flask_session import dump_session, load_session, session_serializer

SECRET = "test-secret"


def _flask_serializer() -> object:
    app = Flask(__name__)
    app.secret_key = SECRET
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    return serializer


def test_a_cookie_flask_signed_is_read() -> None:
    data = {
        "user_id": 3,
        "username": "user",
        "pair": (1, "a"),
        "raw": b"\x00\x01",
        "uid": uuid.UUID(int=7),
        "when": datetime(2025, 5, 1, 12, 0, tzinfo=UTC),
        "html": Markup("<b>x</b>"),
        "nested": {" t": "looks tagged"},
        "list": [(2, 3)],
    }
    cookie = _flask_serializer().dumps(data)  # type: ignore[attr-defined]
    loaded = load_session(cookie, secret_key=SECRET, max_age=3600)
    assert loaded["user_id"] == 3 and loaded["pair"] == (1, "a") and loaded["raw"] == b"\x00\x01"
    assert loaded["uid"] == uuid.UUID(int=7) and loaded["when"] == datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    assert loaded["html"] == "<b>x</b>"
    assert loaded["nested"] == {" t": "looks tagged"} and loaded["list"] == [(2, 3)]


def test_the_payload_is_flasks_bytes_whatever_the_key_order() -> None:
    data = {
        "username": "admin",
        "_permanent": True,
        "user_id": 1,
        "z": {"b": 1, "a": "é"},
        "session_token": "t",
    }
    app = Flask(__name__)
    app.secret_key = SECRET
    with app.app_context():  # as when Flask saves a session: its JSON provider sorts keys
        flask_payload = app.session_interface.get_signing_serializer(app).dump_payload(data)  # type: ignore[attr-defined]
    assert session_serializer(SECRET).dump_payload(data) == flask_payload


def test_a_cookie_the_services_sign_is_read_by_flask() -> None:
    data = {"user_id": 1, "username": "admin", "t": (1, 2), "b": b"z", "u": uuid.UUID(int=1), "d": {" x": 1}}
    cookie = dump_session(data, secret_key=SECRET)
    assert _flask_serializer().loads(cookie) == data  # type: ignore[attr-defined]


@pytest.mark.parametrize("cookie", ["", "garbage", "eyJ1c2VyX2lkIjoxfQ.AAAA.BBBB"])
def test_forged_or_malformed_cookies_give_an_empty_session(cookie: str) -> None:
    assert load_session(cookie, secret_key=SECRET, max_age=3600) == {}


def test_a_cookie_signed_with_another_key_gives_an_empty_session() -> None:
    cookie = dump_session({"user_id": 1}, secret_key="other")
    assert load_session(cookie, secret_key=SECRET, max_age=3600) == {}


def test_a_non_mapping_payload_gives_an_empty_session() -> None:
    cookie = dump_session([1, 2], secret_key=SECRET)  # type: ignore[arg-type]
    assert load_session(cookie, secret_key=SECRET, max_age=3600) == {}
