"""Retention settings of a tenant, a manual retention run, evidence locks (cases) and the
tenant's privacy settings (person colour attributes). Every change is audited."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel, Field

from vigil.api.access import tenant_cameras
from vigil.api.context import Accounts, Attributes, Cases, Retention
from vigil.api.errors import error_responses
from vigil.api.params import EVENT_ID_PATTERN, iso
from vigil.auth.deps import require_principal
from vigil.auth.principal import Principal
from vigil.privacy.audit import audit
from vigil.privacy.retention import RETENTION_LIMITS, Case, CaseStore, RetentionJob
from vigil.store.events import get_many

CaseId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="Case id")]
EventIds = Annotated[
    list[Annotated[str, Field(pattern=EVENT_ID_PATTERN)]], Field(max_length=10_000)
]


class RetentionPolicyOut(BaseModel):
    events_days: float
    media_hours: float
    source: str = Field(description="Where the values come from: camera, tenant or global")


class CameraRetentionOut(RetentionPolicyOut):
    camera_id: str


class RetentionOut(BaseModel):
    tenant: str
    global_: RetentionPolicyOut = Field(alias="global")
    tenant_override: dict[str, float]
    media_quota_mb: float | None
    cameras: list[CameraRetentionOut]


class RetentionIn(BaseModel):
    events_days: float | None = Field(
        None, gt=0, le=RETENTION_LIMITS["events_days"], allow_inf_nan=False
    )
    media_hours: float | None = Field(
        None, gt=0, le=RETENTION_LIMITS["media_hours"], allow_inf_nan=False
    )


class RetentionRunOut(BaseModel):
    ran: str
    events_deleted: int
    snapshots_deleted: int
    bytes_freed: int


class PrivacySettingsIn(BaseModel):
    person_colors: bool | None = Field(
        description="Keep the dominant colour of people in events (null: the deployment default)"
    )


class PrivacySettingsOut(BaseModel):
    tenant: str
    person_colors: bool
    default: bool


class CaseIn(BaseModel):
    name: str = Field(min_length=1, max_length=256)
    purpose: str = Field(min_length=3, max_length=512, description="Why the evidence is kept")
    event_ids: EventIds = Field(default_factory=list)


class CaseEventsIn(BaseModel):
    event_ids: EventIds


class CaseOut(BaseModel):
    id: str
    tenant: str
    name: str
    purpose: str
    created_by: str
    created: str
    released: str | None
    released_by: str | None
    event_ids: list[str]


def case_out(case: Case, visible: Collection[str]) -> CaseOut:
    """The case as a caller sees it: only the `visible` ones of its events (a user limited to
    camera groups sees the case, not the other cameras' events in it)."""
    return CaseOut(
        id=case.id, tenant=case.tenant, name=case.name, purpose=case.purpose,
        created_by=case.created_by, created=iso(case.created_ms) or "",
        released=iso(case.released_ms), released_by=case.released_by,
        event_ids=[e for e in case.event_ids if e in visible],
    )


class RetentionCollector(Collector):
    def __init__(self, job: RetentionJob) -> None:
        self.job = job

    def collect(self) -> Iterator[Metric]:
        job = self.job
        yield CounterMetricFamily("vigil_retention_runs", "Retention job runs", value=job.runs)
        yield CounterMetricFamily("vigil_retention_events_deleted",
                                  "Events deleted by retention", value=job.events_deleted)
        yield CounterMetricFamily("vigil_retention_snapshots_deleted",
                                  "Snapshots deleted by retention", value=job.snapshots_deleted)
        yield CounterMetricFamily("vigil_retention_bytes_freed",
                                  "Media bytes freed by retention", value=job.bytes_freed)
        if job.last_report is not None:
            yield GaugeMetricFamily("vigil_retention_last_run_timestamp_seconds",
                                    "Time of the latest retention run",
                                    value=job.last_report.ran_ms / 1000)


router = APIRouter(tags=["retention"])


def tenant_of(principal: Principal) -> str:
    if principal.tenant is None:
        raise HTTPException(403, "this belongs to a tenant; log in as one of its users")
    return principal.tenant


def case_tenants(principal: Principal) -> list[str] | None:
    return None if principal.tenants is None else [tenant_of(principal)]


@router.get("/api/retention", summary="Retention in force for your tenant",
            response_model=RetentionOut, response_model_by_alias=True)
def get_retention(job: Retention, request: Request) -> RetentionOut:
    tenant = tenant_of(require_principal(request))
    config = job.config
    return RetentionOut.model_validate({
        "tenant": tenant,
        "global": {"events_days": config.events_days, "media_hours": config.media_hours,
                   "source": "global"},
        "tenant_override": job.tenant_override(tenant),
        "media_quota_mb": config.media_quota_mb,
        "cameras": [
            {"camera_id": camera.id, **vars_of(job.policy_for(tenant, camera))}
            for camera in tenant_cameras(job, tenant)
        ],
    })


@router.put(
    "/api/retention",
    summary="Set your tenant's retention (null: back to the global setting)",
    response_model=RetentionOut,
    response_model_by_alias=True,
    responses=error_responses(422),
)
def put_retention(
    job: Retention, auth: Accounts, body: RetentionIn, request: Request
) -> RetentionOut:
    tenant = tenant_of(require_principal(request))
    before = job.tenant_override(tenant)
    auth.update_tenant_settings(tenant, {"retention": {
        k: v for k, v in body.model_dump().items() if v is not None
    } or None})
    audit(request, "retention.settings", tenant=tenant, target=f"tenant:{tenant}",
          details={"before": before, "after": job.tenant_override(tenant)})
    return get_retention(job, request)


@router.post("/api/retention/run", summary="Run retention now; what was deleted",
             response_model=RetentionRunOut)
def run_now(job: Retention, request: Request) -> RetentionRunOut:
    tenant = tenant_of(require_principal(request))
    report = job.run_once().as_dict([tenant])
    audit(request, "retention.run", tenant=tenant, target=f"tenant:{tenant}", details=report)
    return RetentionRunOut(
        ran=iso(report["ran_ms"]) or "", events_deleted=report["events_deleted"],
        snapshots_deleted=report["snapshots_deleted"], bytes_freed=report["bytes_freed"],
    )


# privacy settings ---------------------------------------------------------------------

@router.get("/api/settings/privacy", summary="Your tenant's privacy settings",
            response_model=PrivacySettingsOut)
def get_privacy(attributes: Attributes, request: Request) -> PrivacySettingsOut:
    tenant = tenant_of(require_principal(request))
    return PrivacySettingsOut(tenant=tenant, person_colors=attributes.person_colors(tenant),
                              default=attributes.default)


@router.put(
    "/api/settings/privacy",
    summary="Switch person colour attributes on or off for your tenant (audited)",
    response_model=PrivacySettingsOut,
    responses=error_responses(422),
)
def put_privacy(
    auth: Accounts, attributes: Attributes, body: PrivacySettingsIn, request: Request
) -> PrivacySettingsOut:
    tenant = tenant_of(require_principal(request))
    before = attributes.person_colors(tenant)
    auth.update_tenant_settings(tenant, {"person_colors": body.person_colors})
    attributes.set(tenant, body.person_colors)
    audit(request, "settings.person_colors", tenant=tenant, target=f"tenant:{tenant}",
          details={"before": before, "after": attributes.person_colors(tenant)})
    return get_privacy(attributes, request)


# cases ----------------------------------------------------------------------------------

def visible_events(cases: CaseStore, case: Case, principal: Principal) -> set[str]:
    return set(get_many(cases.engine, case.event_ids, principal.scope()))


def shown(cases: CaseStore, case: Case, principal: Principal) -> CaseOut:
    return case_out(case, visible_events(cases, case, principal))


def check_events(cases: CaseStore, tenant: str, event_ids: list[str], principal: Principal) -> None:
    """Only the tenant's own events that the caller may see (their camera groups) can be
    locked; an event outside them answers as an unknown one, and nothing is changed."""
    seen = get_many(cases.engine, event_ids, principal.scope())
    missing = sorted(
        set(cases.missing_events(tenant, event_ids)) | {e for e in event_ids if e not in seen}
    )
    if missing:
        raise HTTPException(404, f"event_ids: no such events: {missing[:20]}")


def find_case(cases: CaseStore, case_id: str, principal: Principal) -> Case:
    case = cases.get(case_id, case_tenants(principal))
    if case is None:
        raise HTTPException(404, f"no case {case_id!r}")
    return case


@router.get("/api/cases", summary="Cases (evidence locks) of your tenant",
            response_model=list[CaseOut])
def list_cases(cases: Cases, request: Request) -> list[CaseOut]:
    principal = require_principal(request)
    return [shown(cases, c, principal) for c in cases.all(case_tenants(principal))]


@router.post(
    "/api/cases",
    summary="Open a case: its events and media are kept until it is released",
    status_code=201,
    response_model=CaseOut,
    responses=error_responses(404, 422),
)
def create_case(cases: Cases, body: CaseIn, request: Request) -> CaseOut:
    principal = require_principal(request)
    tenant = tenant_of(principal)
    check_events(cases, tenant, body.event_ids, principal)
    case = cases.create(tenant, body.name, body.purpose, principal.actor)
    cases.add_events(case, body.event_ids)
    case = find_case(cases, case.id, principal)
    request.state.purpose = body.purpose
    audit(request, "case.create", tenant=tenant, target=f"case:{case.id}",
          details={"name": case.name, "events": case.event_ids})
    return shown(cases, case, principal)


@router.get("/api/cases/{case_id}", summary="One case", response_model=CaseOut,
            responses=error_responses(404, 422))
def get_case(cases: Cases, case_id: CaseId, request: Request) -> CaseOut:
    principal = require_principal(request)
    return shown(cases, find_case(cases, case_id, principal), principal)


@router.post(
    "/api/cases/{case_id}/events",
    summary="Add events to an open case",
    response_model=CaseOut,
    responses=error_responses(404, 409, 422),
)
def add_events(cases: Cases, case_id: CaseId, body: CaseEventsIn, request: Request) -> CaseOut:
    principal = require_principal(request)
    case = find_case(cases, case_id, principal)
    if case.released_ms is not None:
        raise HTTPException(409, "this case is released; open a new one")
    check_events(cases, case.tenant, body.event_ids, principal)
    cases.add_events(case, body.event_ids)
    audit(request, "case.add", tenant=case.tenant, target=f"case:{case.id}",
          details={"events": body.event_ids})
    return shown(cases, find_case(cases, case_id, principal), principal)


@router.post(
    "/api/cases/{case_id}/release",
    summary="Release a case: its events follow normal retention again",
    response_model=CaseOut,
    responses=error_responses(403, 404, 409, 422),
)
def release_case(cases: Cases, case_id: CaseId, request: Request) -> CaseOut:
    principal = require_principal(request)
    case = find_case(cases, case_id, principal)
    if case.released_ms is not None:
        raise HTTPException(409, "this case is already released")
    if visible_events(cases, case, principal) != set(case.event_ids):
        # Releasing would end the lock on evidence the caller cannot even see.
        raise HTTPException(403, "this case holds events of cameras outside your camera groups")
    cases.release(case, principal.actor)
    audit(request, "case.release", tenant=case.tenant, target=f"case:{case.id}")
    return shown(cases, find_case(cases, case_id, principal), principal)


def vars_of(policy: object) -> dict[str, object]:
    return {name: getattr(policy, name) for name in ("events_days", "media_hours", "source")}

