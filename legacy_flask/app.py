"""The Flask app factory, as MVidarr's app.py.

Signed-cookie session `mvidarr_session`, a request-scoped SQLAlchemy session, the blueprints
under `/auth`, `/api` and `/admin`, the global auth guard driven by the
`require_authentication` setting (src/middleware/dynamic_auth_middleware.py) and the
blanket `500 {"error": str(e)}` that every MVidarr handler has.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy.orm import sessionmaker
from werkzeug.exceptions import HTTPException

from legacy_flask.auth.decorators import auth_required_response, current_user
from legacy_flask.config import load_config
from legacy_flask.database import init_db, make_engine, make_session_factory
from legacy_flask.extensions import ENGINE_KEY, EXTENSION_KEY
from legacy_flask.settings_service import SettingsService

log = logging.getLogger("legacy_flask")

# Monitoring must keep working when login is switched on (MVidarr exempts its health checks).
GUARD_EXEMPT_PREFIXES = ("/api/health",)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    settings = load_config()
    settings.update(config or {})

    app = Flask(__name__)
    app.config.update(settings)
    app.config.update(
        SECRET_KEY=settings["SECRET_KEY"],
        SESSION_COOKIE_NAME="mvidarr_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        SESSION_PERMANENT=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=24),
    )

    engine = make_engine(app.config["DATABASE_URL"])
    if app.config.get("INIT_DB"):
        init_db(engine)
    factory = make_session_factory(engine)
    app.extensions[ENGINE_KEY] = engine
    app.extensions[EXTENSION_KEY] = factory
    SettingsService.configure(sessionmaker(bind=engine, expire_on_commit=False))

    @app.teardown_appcontext
    def remove_session(_exc: BaseException | None) -> None:
        factory.remove()

    _register_blueprints(app)
    _register_guard(app)
    _register_errors(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from legacy_flask.api import admin, artists, enrichment, health, playlists, settings, videos
    from legacy_flask.auth.routes import bp as auth_bp

    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(videos.bp, url_prefix="/api/videos")
    app.register_blueprint(artists.bp, url_prefix="/api/artists")
    app.register_blueprint(playlists.bp, url_prefix="/api/playlists")
    app.register_blueprint(settings.bp, url_prefix="/api/settings")
    app.register_blueprint(health.bp, url_prefix="/api/health")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(enrichment.bp, url_prefix="/api")


def _register_guard(app: Flask) -> None:
    @app.before_request
    def require_login_when_enabled() -> Any:
        path = request.path
        if not path.startswith("/api/") or path.startswith(GUARD_EXEMPT_PREFIXES):
            return None
        # Read through the per-process cache, exactly like MVidarr's middleware.
        if not SettingsService.get_bool("require_authentication", False):
            return None
        if current_user() is None:
            return auth_required_response()
        return None


def _register_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if exc.code is not None and exc.code < 400:  # routing redirects (308 to the slash URL)
            return exc
        if request.path.startswith("/api/") or request.path == "/api":
            return jsonify({"error": exc.name}), exc.code
        return exc

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> Any:
        # The legacy wart: the exception text goes straight to the client.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return jsonify({"error": str(exc)}), 500
