"""The FastAPI application: REST API, live streams, metrics and the web UI in one ASGI app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI

from vigil.alerts.metrics import AlertCollector
from vigil.api import (
    metrics,
    routes_alert_actions,
    routes_alert_console,
    routes_alerting,
    routes_alerts,
    routes_audit,
    routes_auth,
    routes_camera_bulk,
    routes_camera_health,
    routes_cameras,
    routes_counts,
    routes_event_count,
    routes_events,
    routes_heatmap,
    routes_live,
    routes_meta,
    routes_onvif,
    routes_ptz,
    routes_recordings,
    routes_retention,
    routes_review,
    routes_search,
    routes_series,
    routes_setup,
    routes_site,
    routes_stream,
    routes_users,
)
from vigil.api.audit_outcome import ChangeAuditMiddleware
from vigil.api.context import AppContext
from vigil.api.errors import install_error_handlers
from vigil.api.middleware import BodyLimitMiddleware, NulMiddleware, SecurityHeadersMiddleware
from vigil.api.openapi_errors import install_error_contract
from vigil.api.routes_retention import RetentionCollector
from vigil.api.web import mount_web
from vigil.auth.deps import authorize
from vigil.auth.wiring import install_identity
from vigil.bus.base import Bus
from vigil.config import VigilConfig
from vigil.pipeline.control import EngineControl
from vigil.pipeline.ptz import PtzControl
from vigil.recording.metrics import RecordingCollector
from vigil.sources.policy import SourcePolicy
from vigil.store.media import MediaStore
from vigil.store.sink import EventSink
from vigil.store.store import EventStore

if TYPE_CHECKING:
    from vigil.runtime import ApiServices

TAGS = [
    {"name": "cameras", "description": "Add, change and remove cameras at run time"},
    {"name": "live", "description": "Live frames (faces blurred) and live module counters"},
    {"name": "events", "description": "Event search, export, snapshots and the live feed"},
    {"name": "counts", "description": "Line crossings and zone entries over time"},
    {"name": "meta", "description": "Health, metrics, schemas and the module catalogue"},
    {"name": "alerts", "description": "Alert rules, their actions, and fired alerts"},
    {"name": "auth", "description": "Login, sessions, your identity and API tokens"},
    {"name": "users", "description": "Users, camera groups and tenants"},
    {"name": "audit", "description": "The hash-chained audit log (auditors)"},
    {"name": "retention", "description": "Retention, evidence locks (cases), privacy settings"},
    {"name": "search", "description": "Plain-language search over events (no person search)"},
    {"name": "site", "description": "The site map: floor plan or tiles, and camera places"},
    {"name": "onvif", "description": "ONVIF discovery, profiles and stream URIs, PTZ presets"},
    {
        "name": "recordings",
        "description": "Timelines, playback, clips and evidence export (faces blurred)",
    },
]


def create_app(
    config: VigilConfig,
    engine: EngineControl,
    store: EventStore,
    media: MediaStore,
    bus: Bus,
    services: ApiServices,
    *,
    sink: EventSink | None = None,
    demo: bool = False,
) -> FastAPI:
    """The API over an engine and a migrated store, with the services the composition root
    built (`vigil.runtime.api_services`). Starting the cameras, those of the config file and
    those added through the API in an earlier run (`store.sync_config_cameras`), is the
    engine owner's job, as is running `sink`, which the app only reports in /metrics, and
    starting the alert service, whose rules the app manages."""
    ctx = AppContext(
        engine=engine,
        store=store,
        media=media,
        bus=bus,
        sink=sink,
        sources=SourcePolicy.from_config(config),
    )
    app = FastAPI(
        title="Vigil",
        summary="Open video analytics for cities: privacy-safe events, counts and live view",
        version="1",
        openapi_tags=TAGS,
        # Every route: authentication, CSRF, role permission, purpose, rate limit, audit
        # (vigil.auth.policy). The documents are served by install_identity, behind it too.
        dependencies=[Depends(authorize)],
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = ctx
    # The settings the app was built from, for whatever wraps it (tests, authentication).
    app.state.config = config
    install_error_handlers(app)
    # Added last is outermost: headers are set even on a 413 from the body limit.
    app.add_middleware(ChangeAuditMiddleware)
    app.add_middleware(NulMiddleware)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    # Busiest first: a request's route is found by trying the routers in this order.
    # tests/api/test_routing.py proves that no route claims another's paths.
    app.include_router(routes_stream.router)  # before events, whose /{event_id} is broader
    app.include_router(routes_events.router)
    app.include_router(routes_counts.router)
    app.include_router(routes_search.router)
    app.include_router(routes_meta.router)
    app.include_router(metrics.router)
    # Before the cameras router, whose /{camera_id} would otherwise claim /export.yaml.
    app.include_router(routes_setup.router)
    app.include_router(routes_camera_bulk.router)
    app.include_router(routes_cameras.router)
    app.include_router(routes_live.router)
    app.include_router(routes_heatmap.router)
    app.include_router(routes_site.router)
    app.include_router(routes_onvif.router)
    app.state.ptz = PtzControl(engine, ctx.sources, routes_ptz.camera_lookup(ctx))
    app.include_router(routes_ptz.router)
    app.include_router(routes_recordings.router)
    app.include_router(routes_camera_health.router)
    app.include_router(routes_review.router)
    app.include_router(routes_alerting.router)
    app.include_router(routes_event_count.router)
    alerts, identity = services.alerts, services.identity
    # Before the alerts router, whose /api/alerts/{alert_id} would otherwise claim /firing.
    app.include_router(routes_alert_console.router)
    app.state.alerts = alerts
    app.include_router(routes_alerts.router)
    app.include_router(routes_alert_actions.router)
    # Figures of other parts for /metrics (vigil.api.metrics), for system roles only.
    app.state.alert_metrics = AlertCollector(alerts.counters, store.engine)
    app.state.metrics_collectors = [app.state.alert_metrics]
    app.include_router(routes_series.router)
    app.state.search = services.search
    app.state.demo = demo
    app.include_router(routes_auth.router)
    app.include_router(routes_users.router)
    app.include_router(routes_audit.router)
    app.include_router(routes_retention.router)
    app.state.metrics_collectors.append(RetentionCollector(identity.retention))
    install_identity(app, identity, config)
    recording = engine.recording
    app.state.metrics_collectors.append(
        RecordingCollector(
            lambda: recording.writer.stats if recording is not None else None,
            lambda: (
                identity.retention.recordings.last_report if identity.retention.recordings else None
            ),
        )
    )
    mount_web(app)
    install_error_contract(app)
    return app
