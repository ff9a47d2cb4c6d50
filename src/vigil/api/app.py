"""The FastAPI application: REST API, live streams, metrics and the web UI in one ASGI app."""

from __future__ import annotations

from fastapi import FastAPI

from vigil.api.context import AppContext
from vigil.api.errors import install_error_handlers
from vigil.api.metrics import metrics_router
from vigil.api.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from vigil.api.routes_cameras import cameras_router
from vigil.api.routes_counts import counts_router
from vigil.api.routes_events import events_router
from vigil.api.routes_live import live_router
from vigil.api.routes_meta import meta_router
from vigil.api.routes_series import series_router
from vigil.api.routes_stream import stream_router
from vigil.api.web import mount_web
from vigil.bus.base import Bus
from vigil.config import VigilConfig
from vigil.pipeline.control import EngineControl
from vigil.store.media import MediaStore
from vigil.store.sink import EventSink
from vigil.store.store import EventStore

TAGS = [
    {"name": "cameras", "description": "Add, change and remove cameras at run time"},
    {"name": "live", "description": "Live frames (faces blurred) and live module counters"},
    {"name": "events", "description": "Event search, export, snapshots and the live feed"},
    {"name": "counts", "description": "Line crossings and zone entries over time"},
    {"name": "meta", "description": "Health, metrics, schemas and the module catalogue"},
]


def create_app(
    config: VigilConfig,
    engine: EngineControl,
    store: EventStore,
    media: MediaStore,
    bus: Bus,
    *,
    sink: EventSink | None = None,
) -> FastAPI:
    """The API over an engine. Migrates the store (idempotent). Starting the cameras, those
    of the config file and those added through the API in an earlier run
    (`store.sync_config_cameras`), is the engine owner's job, as is running `sink`, which
    the app only reports in /metrics."""
    store.migrate()
    ctx = AppContext(engine=engine, store=store, media=media, bus=bus, sink=sink)
    app = FastAPI(
        title="Vigil",
        summary="Open video analytics for cities: privacy-safe events, counts and live view",
        version="1",
        openapi_tags=TAGS,
    )
    app.state.context = ctx
    # The settings the app was built from, for whatever wraps it (tests, authentication).
    app.state.config = config
    install_error_handlers(app)
    # Added last is outermost: headers are set even on a 413 from the body limit.
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.include_router(meta_router(ctx))
    app.include_router(metrics_router(engine, sink))
    app.include_router(cameras_router(ctx))
    app.include_router(live_router(ctx))
    # Before the events router, whose /{event_id} would otherwise claim /stream.
    app.include_router(stream_router(ctx))
    app.include_router(events_router(ctx))
    app.include_router(counts_router(ctx))
    app.include_router(series_router(ctx))
    mount_web(app)
    return app
