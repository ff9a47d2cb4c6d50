"""What routers need from the running process, as FastAPI dependencies: the `AppContext`
and the services the composition root built, all set on `app.state` by `create_app`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Request

from vigil.alerts.service import AlertService
from vigil.auth.service import AuthService
from vigil.auth.store import AuthStore
from vigil.bus.base import Bus
from vigil.config import VigilConfig
from vigil.pipeline.control import EngineControl
from vigil.pipeline.ptz import PtzControl
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


T = TypeVar("T")


def _from_state(name: str, kind: type[T]) -> Any:
    """A dependency answering `app.state.<name>` (set by `create_app`), typed as `kind`."""

    # async: FastAPI runs a plain `def` dependency in the thread pool, a hand-off per request
    # that costs more than this attribute read (docs/benchmarks.md, the API under load).
    async def dependency(request: Request) -> T:
        return cast(T, getattr(request.app.state, name))

    dependency.__name__ = f"app_{name}"
    return Depends(dependency)


def _accounts(auth: Annotated[AuthService, _from_state("auth", AuthService)]) -> AuthStore:
    return auth.store


# The running app's context, for handlers of module-level routers, and the services the
# composition root built: the settings, alerts (evaluated by the engine owner), search (one per
# store), and the identity parts of vigil.auth.wiring.Identity.
Context = Annotated[AppContext, _from_state("context", AppContext)]
Config = Annotated[VigilConfig, _from_state("config", VigilConfig)]
Alerts = Annotated[AlertService, _from_state("alerts", AlertService)]
Search = Annotated[SearchService, _from_state("search", SearchService)]
Auth = Annotated[AuthService, _from_state("auth", AuthService)]
# Users, tokens, camera groups and tenants (the auth service's store).
Accounts = Annotated[AuthStore, Depends(_accounts)]
Audit = Annotated[AuditLog, _from_state("audit", AuditLog)]
# The retention job, which also knows every camera (running or stored).
Retention = Annotated[RetentionJob, _from_state("retention", RetentionJob)]
Cases = Annotated[CaseStore, _from_state("cases", CaseStore)]
# Each tenant's privacy choices about person attributes.
Attributes = Annotated[AttributePolicy, _from_state("attributes", AttributePolicy)]
# Moves PTZ cameras and keeps their analysis at the preset's geometry (vigil.pipeline.ptz).
Ptz = Annotated[PtzControl, _from_state("ptz", PtzControl)]
# Whether this is the demo (its login page offers the one-time link).
Demo = Annotated[bool, _from_state("demo", bool)]
