"""Counts over time: line crossings and zone entries per bucket, for charts."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from vigil.api.access import tenant_scope
from vigil.api.context import Context
from vigil.api.csv_export import render, text_cells
from vigil.api.errors import error_responses
from vigil.api.json_body import json_response
from vigil.api.params import iso, split_values, time_range
from vigil.api.schemas import CountsOut
from vigil.domain.frames import now_ms
from vigil.store.query import CountQuery

DEFAULT_SPAN_MS = 24 * 3600 * 1000
CSV_COLUMNS = ("bucket_start", "camera_id", "line", "zone", "class_name", "direction", "count")
Values = Annotated[list[str] | None, Query()]


router = APIRouter(prefix="/api", tags=["counts"])


@router.get(
    "/counts",
    summary="Line crossings and zone entries per time bucket (JSON or CSV)",
    description=(
        "Rows for `line.crossing` events are per camera, line, class and direction; rows "
        "for `zone.presence` events (one per visit) are per camera, zone and class. "
        "Buckets are `interval` seconds, aligned to the Unix epoch (so 3600 gives whole "
        "UTC hours). The range defaults to the last 24 hours. A `line` filter keeps only "
        "crossings of those lines, a `zone` filter only entries of those zones."
    ),
    response_model=CountsOut,
    responses={200: {"content": {"text/csv": {}}}, **error_responses(422)},
)
def counts(
    ctx: Context,
    tenants: Annotated[Collection[str] | None, Depends(tenant_scope)],
    start: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(description="ISO 8601, exclusive")] = None,
    interval: Annotated[int, Query(ge=1, le=366 * 86400, description="Seconds")] = 60,
    camera: Values = None,
    line: Values = None,
    zone: Values = None,
    class_: Annotated[list[str] | None, Query(alias="class")] = None,
    format: Literal["json", "csv"] = "json",
) -> Response:
    start_ms, end_ms = time_range(start, end, default_span_ms=DEFAULT_SPAN_MS, now_ms=now_ms())
    assert start_ms is not None and end_ms is not None  # the default span fills both
    rows = ctx.store.counts(
        CountQuery(
            start_ms=start_ms,
            end_ms=end_ms,
            interval_s=interval,
            tenants=tenants,
            camera_ids=split_values(camera, "camera"),
            lines=split_values(line, "line"),
            zones=split_values(zone, "zone"),
            class_names=split_values(class_, "class"),
        )
    )
    # Formatted once per bucket: a camera's day in hours is some 300 rows but 24 buckets.
    starts = {ms: iso(ms) or "" for ms in {row.bucket_start_ms for row in rows}}
    out = [
        {
            "bucket_start": starts[row.bucket_start_ms],
            "camera_id": row.camera_id,
            "line": row.line,
            "zone": row.zone,
            "class_name": row.class_name,
            "direction": row.direction,
            "count": row.count,
        }
        for row in rows
    ]
    if format == "csv":
        body = render((text_cells(row.values()) for row in out), CSV_COLUMNS)
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="vigil-counts.csv"'},
        )
    window = {"interval_s": interval, "start": iso(start_ms) or "", "end": iso(end_ms) or ""}
    return json_response({**window, "rows": out})
