"""Identity, audit, retention and privacy settings plugged into the FastAPI app."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from vigil.auth.service import CSRF_HEADER, PURPOSE_HEADER, AuthService
from vigil.auth.store import AuthStore
from vigil.config import CameraConfig, VigilConfig
from vigil.pipeline.control import EngineControl
from vigil.privacy.audit import AuditLog, set_default
from vigil.privacy.masks import AttributePolicy
from vigil.privacy.retention import CaseStore, RetentionJob
from vigil.recording.retention import RecordingRetention
from vigil.store.media import MediaStore
from vigil.store.store import EventStore

log = logging.getLogger(__name__)


@dataclass
class Identity:
    auth: AuthService
    audit: AuditLog
    retention: RetentionJob
    cases: CaseStore
    attributes: AttributePolicy


def load_tenant_choices(auth_store: AuthStore, attributes: AttributePolicy) -> None:
    """Apply each tenant's stored privacy choices (person colours) to `attributes`."""
    for tenant in auth_store.list_tenants():
        choice = (tenant["settings"] or {}).get("person_colors")
        attributes.set(tenant["id"], None if choice is None else bool(choice))


def build_identity(
    config: VigilConfig,
    engine: EngineControl,
    store: EventStore,
    media: MediaStore,
    attributes: AttributePolicy | None = None,
) -> Identity:
    audit_log = AuditLog(store.engine)
    set_default(audit_log)
    auth_store = AuthStore(store.engine)
    attributes = attributes or AttributePolicy(config.privacy.person_colors)
    load_tenant_choices(auth_store, attributes)

    def all_cameras() -> list[CameraConfig]:
        running = {camera.id: camera for camera in engine.cameras()}
        for stored in store.list_cameras(None):
            running.setdefault(stored.config.id, stored.config)
        return list(running.values())

    retention = RetentionJob(
        store.engine, media, config.retention, auth_store, cameras=all_cameras, audit=audit_log
    )
    retention.recordings = RecordingRetention(
        store.engine, media, config.recording, cameras=all_cameras, audit=audit_log,
        clock=retention.clock,
    )
    return Identity(
        auth=AuthService(auth_store, config.security, audit_log),
        audit=audit_log,
        retention=retention,
        cases=CaseStore(store.engine),
        attributes=attributes,
    )


def install_identity(app: FastAPI, identity: Identity, config: VigilConfig) -> None:
    """The identity parts on `app.state`, where the API's dependencies
    (`vigil.api.context`) find them; protected API docs; CORS if configured. The routers
    using them are included by create_app; `authorize` itself is an app-wide dependency
    given to FastAPI() by create_app."""
    app.state.auth = identity.auth
    app.state.audit = identity.audit
    app.state.retention = identity.retention
    app.state.cases = identity.cases
    app.state.attributes = identity.attributes

    # The API documents need a login like every other route (see vigil.auth.policy).
    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Vigil API")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title="Vigil API")

    origins = config.security.cors_origins
    if origins:
        # Only the listed origins, never with cookies: a browser app on another origin
        # authenticates with a bearer token.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", PURPOSE_HEADER, CSRF_HEADER],
            max_age=600,
        )


def describe_first_run(app: Any, url: str) -> str | None:
    """The log lines that tell how to create the first administrator, while none exists."""
    service: AuthService | None = getattr(app.state, "auth", None)
    code = service.setup_code() if service is not None else None
    if code is None:
        return None
    return (
        "No user exists yet, so nobody can log in and remote clients are refused. Create the "
        "first administrator with `vigil users create-admin --config <file>`, or open "
        f"{url}/#/setup in a browser on this machine and enter the one-time code {code}"
    )
