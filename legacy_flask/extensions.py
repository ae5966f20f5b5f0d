"""Request-scoped database access, as MVidarr's src/database/connection.py hands it out.

`create_app` stores a `scoped_session` in `app.extensions["figway_db"]`; handlers call
`db()` for the session of the current request, and the app removes it at teardown.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

EXTENSION_KEY = "figway_db"
ENGINE_KEY = "figway_engine"


def db() -> Session:
    """The SQLAlchemy session of the current request."""
    factory: scoped_session[Session] = current_app.extensions[EXTENSION_KEY]
    return factory()


def session_factory() -> scoped_session[Session]:
    factory: scoped_session[Session] = current_app.extensions[EXTENSION_KEY]
    return factory


def engine() -> Engine:
    eng: Engine = current_app.extensions[ENGINE_KEY]
    return eng
