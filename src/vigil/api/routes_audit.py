"""The audit log for auditors: browse, export as CSV, verify the hash chain.

A tenant's auditor sees the records of their tenant; an auditor without a tenant (the
deployment's data-protection officer) sees every record. Reading the log is itself audited.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from vigil.api.context import Audit
from vigil.api.csv_export import render, text_cells
from vigil.api.errors import error_responses
from vigil.api.params import iso, time_range
from vigil.auth.deps import require_principal
from vigil.auth.principal import Principal
from vigil.domain.frames import now_ms
from vigil.privacy.audit import AuditRecord

CSV_COLUMNS = ("seq", "time", "actor", "role", "tenant", "action", "target", "purpose",
               "outcome", "ip", "details", "prev_hash", "hash")
CSV_MAX_ROWS = 1_000_000


class AuditRecordOut(BaseModel):
    seq: int
    time: str
    ts_ms: int
    actor: str
    role: str
    tenant: str | None
    action: str
    target: str
    purpose: str
    outcome: str
    ip: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPageOut(BaseModel):
    items: list[AuditRecordOut]
    next_before: int | None = Field(description="Pass as `before` for the next (older) page")


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None
    problem: str | None


def record_out(record: AuditRecord) -> AuditRecordOut:
    return AuditRecordOut(**record.as_dict(), time=iso(record.ts_ms) or "")


def visible_tenants(principal: Principal) -> list[str] | None:
    if principal.tenants is None or (principal.tenant is None and principal.role is not None):
        return None  # system auditor (or internal): every record
    return [principal.tenant] if principal.tenant else []


router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get(
    "",
    summary="Audit records, newest first (JSON pages or CSV)",
    response_model=AuditPageOut,
    responses={200: {"content": {"text/csv": {}}}, **error_responses(422)},
)
def browse(
    log: Audit,
    request: Request,
    start: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(description="ISO 8601, exclusive")] = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=64, description="Prefix: 'auth.'")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Literal["json", "csv"] = "json",
) -> AuditPageOut | StreamingResponse:
    principal = require_principal(request)
    tenants = visible_tenants(principal)
    start_ms, end_ms = time_range(start, end, default_span_ms=None, now_ms=now_ms())
    if format == "csv":
        def lines() -> Iterator[str]:
            yield render([], header=CSV_COLUMNS)
            cursor, sent = before, 0
            while sent < CSV_MAX_ROWS:
                page = log.query(tenants=tenants, start_ms=start_ms, end_ms=end_ms,
                                 actor=actor, action=action, before_seq=cursor, limit=1000)
                if not page:
                    return
                yield render(
                    text_cells([r.seq, iso(r.ts_ms), r.actor, r.role, r.tenant, r.action,
                                r.target, r.purpose, r.outcome, r.ip,
                                json.dumps(r.details, sort_keys=True), r.prev_hash, r.hash])
                    for r in page
                )
                sent += len(page)
                cursor = page[-1].seq

        return StreamingResponse(
            lines(), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="vigil-audit.csv"'},
        )
    page = log.query(tenants=tenants, start_ms=start_ms, end_ms=end_ms, actor=actor,
                     action=action, before_seq=before, limit=limit + 1)
    more = len(page) > limit
    items = page[:limit]
    return AuditPageOut(
        items=[record_out(r) for r in items],
        next_before=items[-1].seq if more and items else None,
    )


@router.get("/verify", summary="Verify the whole hash chain", response_model=VerifyOut)
def verify(log: Audit) -> VerifyOut:
    result = log.verify()
    return VerifyOut(
        ok=result.ok, checked=result.checked, head_seq=result.head_seq,
        head_hash=result.head_hash, first_bad_seq=result.first_bad_seq,
        problem=result.problem,
    )
