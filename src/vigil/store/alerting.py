"""Rows of the per-camera alert setting (vigil.domain.alert_types says what it means)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa

from vigil.store.db import dialect_insert
from vigil.store.schema import camera_alerting, events


@dataclass(frozen=True, slots=True)
class CameraAlerting:
    camera_id: str
    tenant: str
    alert_types: list[str]
    updated_by: str
    updated_ms: int


def load(engine: sa.Engine, tenants: Collection[str] | None = None) -> dict[str, CameraAlerting]:
    """Every camera's setting (of these tenants), by camera id."""
    statement = sa.select(camera_alerting)
    if tenants is not None:
        statement = statement.where(camera_alerting.c.tenant.in_(list(tenants)))
    with engine.connect() as connection:
        rows = connection.execute(statement).mappings().all()
    return {
        row["camera_id"]: CameraAlerting(
            row["camera_id"], row["tenant"], list(row["alert_types"] or []),
            row["updated_by"], row["updated_ms"],
        )
        for row in rows
    }


def put(engine: sa.Engine, setting: CameraAlerting) -> None:
    insert = dialect_insert(engine, camera_alerting).values(
        camera_id=setting.camera_id, tenant=setting.tenant, alert_types=setting.alert_types,
        updated_by=setting.updated_by[:128], updated_ms=setting.updated_ms,
    )
    new = insert.excluded
    statement = insert.on_conflict_do_update(
        index_elements=[camera_alerting.c.camera_id],
        set_={"tenant": new.tenant, "alert_types": new.alert_types,
              "updated_by": new.updated_by, "updated_ms": new.updated_ms},
    )
    with engine.begin() as connection:
        connection.execute(statement)


def delete(engine: sa.Engine, camera_id: str) -> None:
    with engine.begin() as connection:
        connection.execute(sa.delete(camera_alerting).where(
            camera_alerting.c.camera_id == camera_id))


def seen_types(engine: sa.Engine, camera_id: str, limit: int = 100) -> list[str]:
    """The event types stored for a camera (what its setting may name besides modules)."""
    statement = (
        sa.select(events.c.type).where(events.c.camera_id == camera_id).distinct().limit(limit)
    )
    with engine.connect() as connection:
        return sorted(str(t) for t in connection.execute(statement).scalars())
