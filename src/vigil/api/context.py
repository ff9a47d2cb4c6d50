"""What routers need from the running process, as FastAPI dependencies: the `AppContext`
and the services the composition root built, all set on `app.state` by `create_app`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, cast

from fastapi import Depends, Request

from vigil.alerts.service import AlertService
from vigil.auth.service import AuthService
from vigil.auth.store import AuthStore
from vigil.bus.base import Bus
from vigil.config import VigilConfig
from vigil.pipeline.control import EngineControl
from vigil.privacy.audit import AuditLog
from vigil.privacy.masks import AttributePolicy
from vigil.privacy.retention import CaseStore, RetentionJob
from vigil.search.service import SearchService
from vigil.sources.policy import SourcePolicy
from vigil.store.media import MediaStore
from vigil.store.sink import EventSink
from vigil.store.store import EventStore


@dataclass(slots=True)
class AppContext:
    engine: EngineControl
    store: EventStore
    media: MediaStore
    bus: Bus
    sink: EventSink | None = None
    # Proxies drop idle connections after 30-60 s; a comment line well inside that keeps
    # an event stream open.
    sse_keepalive_s: float = 15.0
    # What camera URLs a tenant may enter (`check_url` before saving one; docs/security.md).
    sources: SourcePolicy = field(default_factory=SourcePolicy)


def app_context(request: Request) -> AppContext:
    """The running app's context, for handlers of module-level routers."""
    return cast(AppContext, request.app.state.context)


Context = Annotated[AppContext, Depends(app_context)]


def app_config(request: Request) -> VigilConfig:
    """The settings the running app was built from."""
    return cast(VigilConfig, request.app.state.config)


Config = Annotated[VigilConfig, Depends(app_config)]


def app_alerts(request: Request) -> AlertService:
    """The alert service whose rules the API manages (evaluated by the engine owner)."""
    return cast(AlertService, request.app.state.alerts)


Alerts = Annotated[AlertService, Depends(app_alerts)]


def app_search(request: Request) -> SearchService:
    """The search service over the app's store (one per store, fed by the runtime's indexer)."""
    return cast(SearchService, request.app.state.search)


Search = Annotated[SearchService, Depends(app_search)]


# The identity parts (vigil.auth.wiring.Identity), set on app.state by `create_app`.


def app_auth(request: Request) -> AuthService:
    """Logins, sessions and tokens."""
    return cast(AuthService, request.app.state.auth)


Auth = Annotated[AuthService, Depends(app_auth)]


def app_accounts(request: Request) -> AuthStore:
    """Users, tokens, camera groups and tenants (the auth service's store)."""
    return app_auth(request).store


Accounts = Annotated[AuthStore, Depends(app_accounts)]


def app_audit(request: Request) -> AuditLog:
    """The hash-chained audit log."""
    return cast(AuditLog, request.app.state.audit)


Audit = Annotated[AuditLog, Depends(app_audit)]


def app_retention(request: Request) -> RetentionJob:
    """The retention job, which also knows every camera (running or stored)."""
    return cast(RetentionJob, request.app.state.retention)


Retention = Annotated[RetentionJob, Depends(app_retention)]


def app_cases(request: Request) -> CaseStore:
    """Evidence locks (cases)."""
    return cast(CaseStore, request.app.state.cases)


Cases = Annotated[CaseStore, Depends(app_cases)]


def app_attributes(request: Request) -> AttributePolicy:
    """Each tenant's privacy choices about person attributes."""
    return cast(AttributePolicy, request.app.state.attributes)


Attributes = Annotated[AttributePolicy, Depends(app_attributes)]


def app_demo(request: Request) -> bool:
    """Whether this is the demo (its login page offers the one-time link)."""
    return cast(bool, request.app.state.demo)


Demo = Annotated[bool, Depends(app_demo)]
