"""Statistics series (occupancy, queue length, speed …) over time, as JSON for charts or CSV."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from vigil.api.access import tenant_scope
from vigil.api.context import Context
from vigil.api.csv_export import render, text_cells
from vigil.api.errors import error_responses
from vigil.api.params import iso, split_values, time_range
from vigil.domain.frames import now_ms
from vigil.store.query import SeriesQuery, SeriesRow

DEFAULT_SPAN_MS = 24 * 3600 * 1000
Values = Annotated[list[str] | None, Query()]
CSV_COLUMNS = (
    "bucket_start",
    "camera_id",
    "module",
    "metric",
    "place",
    "class_name",
    "samples",
    "mean",
    "min",
    "max",
)


class SeriesRowOut(BaseModel):
    bucket_start: str
    camera_id: str
    module: str
    metric: str
    place: str
    class_name: str
    samples: int
    mean: float
    min: float
    max: float


class SeriesOut(BaseModel):
    interval_s: int
    start: str
    end: str
    rows: list[SeriesRowOut]


def _out(row: SeriesRow) -> SeriesRowOut:
    return SeriesRowOut(
        bucket_start=iso(row.bucket_start_ms) or "",
        camera_id=row.camera_id,
        module=row.module,
        metric=row.metric,
        place=row.place,
        class_name=row.class_name,
        samples=row.samples,
        mean=round(row.mean, 4),
        min=row.min,
        max=row.max,
    )


router = APIRouter(prefix="/api", tags=["statistics"])


@router.get(
    "/series",
    summary="Statistics series per camera, module, metric, place and class",
    description=(
        "Modules sample what they measure on every analysed frame (zone occupancy, "
        "loitering count, and more); samples are kept per minute and re-bucketed here to "
        "`interval` seconds (a whole number of minutes) with their mean, minimum and "
        "maximum. `place` is the zone, line or slot ('' when not place-specific); "
        "`class_name` is '' for all classes. The range defaults to the last 24 hours. "
        "`format=csv` returns the same rows as text/csv."
    ),
    response_model=SeriesOut,
    responses={200: {"content": {"text/csv": {}}}, **error_responses(422)},
)
def series(
    ctx: Context,
    tenants: Annotated[Collection[str] | None, Depends(tenant_scope)],
    start: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(description="ISO 8601, exclusive")] = None,
    interval: Annotated[int, Query(ge=60, le=366 * 86400, description="Seconds")] = 60,
    camera: Values = None,
    module: Values = None,
    metric: Values = None,
    place: Values = None,
    class_: Annotated[list[str] | None, Query(alias="class")] = None,
    format: Literal["json", "csv"] = "json",
) -> SeriesOut | Response:
    start_ms, end_ms = time_range(start, end, default_span_ms=DEFAULT_SPAN_MS, now_ms=now_ms())
    assert start_ms is not None and end_ms is not None  # the default span fills both
    rows = [
        _out(row)
        for row in ctx.store.query_series(
            SeriesQuery(
                start_ms=start_ms,
                end_ms=end_ms,
                interval_s=interval,
                tenants=tenants,
                camera_ids=split_values(camera, "camera"),
                modules=split_values(module, "module"),
                metrics=split_values(metric, "metric"),
                places=split_values(place, "place"),
                class_names=split_values(class_, "class"),
            )
        )
    ]
    if format == "csv":
        body = render((text_cells(row.model_dump().values()) for row in rows), CSV_COLUMNS)
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="vigil-series.csv"'},
        )
    return SeriesOut(
        interval_s=interval, start=iso(start_ms) or "", end=iso(end_ms) or "", rows=rows
    )
