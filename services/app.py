"""The services application: `create_app()` builds it, `mount_routers()` is the one place routes join.

To add a router: create `services/<resource>/router.py` with `router = APIRouter(...)` and add
one line to `ROUTERS` below.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from services import health, metrics, tracing
from services._admission import AdmissionLimit
from services._legacy_http import HeadAsGet, WerkzeugFirstValues
from services._legacy_json import LegacyJSONResponse
from services._legacy_session import LegacySessionRefresh
from services.app_settings import router as app_settings
from services.app_settings.cache import SettingsCache
from services.artists import router as artists
from services.auth import router as auth
from services.auth.setup import install_auth
from services.db import (
    create_engine,
    create_read_engine,
    create_sessionmaker,
    create_sqlite_writers,
    driver_statements,
)
from services.enrichment import router as enrichment
from services.errors import install_error_handlers
from services.logs import configure_logging
from services.openapi import install_openapi
from services.playlists import router as playlists
from services.settings import Settings
from services.system import admin_router as system_admin
from services.system import admin_users_router as admin_users
from services.system import health_router as system_health
from services.videos import router as videos

# One line per router; order matters only for overlapping paths (none today).
ROUTERS: Sequence[APIRouter] = (
    health.router,
    auth.router,
    app_settings.router,
    videos.router,
    artists.router,
    playlists.router,
    metrics.router,
    enrichment.router,
    system_health.router,
    system_admin.router,
    admin_users.router,
)


def mount_routers(app: FastAPI, routers: Sequence[APIRouter] = ROUTERS) -> None:
    for router in routers:
        app.include_router(router)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    configure_logging(level=settings.log_level, log_format=settings.log_format, keep_existing=True)
    engine = create_engine(settings)
    app.state.engine = engine
    provider = app.state.tracer_provider
    driver = driver_statements(settings, traced=provider is not None)
    app.state.sessionmaker = create_sessionmaker(engine, driver=driver)
    read_engine = create_read_engine(settings, engine)
    app.state.read_engine = read_engine
    app.state.read_sessionmaker = create_sessionmaker(read_engine, driver=driver)
    app.state.auth.bind(app.state.sessionmaker)
    app.state.sqlite_writers = create_sqlite_writers(settings)
    app.state.settings_cache = SettingsCache(ttl=settings.settings_cache_ttl)
    if provider is not None:
        tracing.instrument_engines(provider, engine, read_engine)
    # Startup objects (modules, routes, schemas) never die: keep them out of every later
    # full GC pass, whose pauses would otherwise land on in-flight requests' latency.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        if read_engine is not engine:
            await read_engine.dispose()
        await engine.dispose()
        if provider is not None:
            tracing.uninstrument(app)
            provider.shutdown()  # flushes the queued spans


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="figway services",
        version="0.1.0",
        lifespan=lifespan,
        # Legacy (werkzeug) decides slash redirects itself; see services/_legacy_http.py.
        redirect_slashes=False,
        # Every JSON answer in legacy's bytes, even from a handler that returns a plain dict.
        default_response_class=LegacyJSONResponse,
    )
    app.state.settings = settings
    install_error_handlers(app)
    # Inside every middleware that copies the scope: it reads what the handler left there.
    app.add_middleware(LegacySessionRefresh)
    app.add_middleware(HeadAsGet)
    if settings.max_in_flight:
        app.add_middleware(AdmissionLimit, max_in_flight=settings.max_in_flight)
    install_auth(app, settings)
    # Outermost: every layer below (auth, guard, handlers) reads werkzeug's first values.
    app.add_middleware(WerkzeugFirstValues)
    mount_routers(app)
    install_openapi(app)
    app.state.tracer_provider = provider = tracing.tracer_provider()
    if provider is not None:
        tracing.instrument_app(app, provider)
    return app
