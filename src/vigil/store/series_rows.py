"""Statistics series in the store: per-minute points written by replacement, read re-bucketed."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from vigil.auth.scope import scope_clauses
from vigil.domain.series_points import SeriesPoint
from vigil.store.db import dialect_insert
from vigil.store.query import SeriesQuery, SeriesRow
from vigil.store.schema import series

_KEY = ("camera_id", "module", "metric", "place", "class_name", "bucket_ms")


def upsert(engine: sa.Engine, points: list[SeriesPoint]) -> int:
    """Write points in one transaction. A point replaces the stored one of the same series and
    minute unless it holds fewer samples: points are running totals, so that keeps the most
    complete one whatever order they arrive in."""
    latest: dict[tuple[Any, ...], SeriesPoint] = {}
    for point in points:
        current = latest.get(point.key)
        if current is None or point.count >= current.count:
            latest[point.key] = point
    rows = [point.model_dump() for point in latest.values()]
    if not rows:
        return 0
    insert = dialect_insert(engine, series)
    new = insert.excluded
    statement = insert.on_conflict_do_update(
        index_elements=[series.c[name] for name in _KEY],
        set_={name: new[name] for name in ("tenant", "count", "sum", "min", "max")},
        where=new["count"] >= series.c["count"],
    )
    with engine.begin() as connection:
        connection.execute(statement, rows)
    return len(rows)


def _in(column: sa.ColumnElement[Any], values: Collection[str] | None) -> list[Any]:
    return [] if values is None else [column.in_(list(values))]


def query(engine: sa.Engine, q: SeriesQuery) -> list[SeriesRow]:
    c = series.c
    interval_ms = sa.bindparam("interval_ms", q.interval_s * 1000, type_=sa.BigInteger)
    # Bucketed in a subquery so GROUP BY names a column (see events.counts for why).
    bucketed = (
        sa.select(
            (c.bucket_ms // interval_ms).label("bucket"),
            c.camera_id, c.module, c.metric, c.place, c.class_name,
            c["count"], c["sum"], c["min"], c["max"],
        )
        .where(
            c.bucket_ms >= q.start_ms,
            c.bucket_ms < q.end_ms,
            *scope_clauses(q.tenants, c.tenant, c.camera_id, "stats"),
            *_in(c.camera_id, q.camera_ids),
            *_in(c.module, q.modules),
            *_in(c.metric, q.metrics),
            *_in(c.place, q.places),
            *_in(c.class_name, q.class_names),
        )
        .subquery()
    )
    b = bucketed.c
    keys = [b.bucket, b.camera_id, b.module, b.metric, b.place, b.class_name]
    statement = (
        sa.select(
            *keys,
            sa.func.sum(b["count"]).label("samples"),
            sa.func.sum(b["sum"]).label("total"),
            sa.func.min(b["min"]).label("low"),
            sa.func.max(b["max"]).label("high"),
        )
        .group_by(*keys)
        .order_by(*keys)
    )
    with engine.connect() as connection:
        rows = connection.execute(statement).mappings().all()
    return [
        SeriesRow(
            bucket_start_ms=int(row["bucket"]) * q.interval_s * 1000,
            camera_id=row["camera_id"],
            module=row["module"],
            metric=row["metric"],
            place=row["place"],
            class_name=row["class_name"],
            samples=int(row["samples"]),
            mean=float(row["total"]) / int(row["samples"]),
            min=float(row["low"]),
            max=float(row["high"]),
        )
        for row in rows
    ]
