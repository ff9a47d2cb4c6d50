"""Camera rows: what the API added at run time and what the config file declares.

Cameras added through the API must survive a restart, so they live here; config-file cameras
are mirrored here too (origin 'config') so that one table answers "which cameras exist".
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from pydantic import ValidationError

from vigil.auth.scope import scope_clauses
from vigil.config import CameraConfig
from vigil.domain.frames import now_ms
from vigil.store import ptz_rows
from vigil.store.db import dialect_insert
from vigil.store.schema import cameras

log = logging.getLogger(__name__)

Origin = Literal["config", "api"]
ORIGINS: tuple[Origin, ...] = ("config", "api")


@dataclass(frozen=True, slots=True)
class StoredCamera:
    config: CameraConfig
    origin: Origin
    created_ms: int
    updated_ms: int


def _from_row(row: sa.RowMapping) -> StoredCamera:
    return StoredCamera(
        config=_config(row),
        origin=row["origin"],
        created_ms=row["created_ms"],
        updated_ms=row["updated_ms"],
    )


def _config(row: sa.RowMapping) -> CameraConfig:
    """The stored settings; settings that today's validation refuses (stored by an older
    version) come back as a disabled camera with only its id and tenant, so it can still be
    listed, replaced with valid settings and deleted, and is never run."""
    try:
        # The URL may be sealed (encrypted) here; the store checked it before sealing it.
        return CameraConfig.model_validate(row["config"], context={"sealed": True})
    except ValidationError as error:
        log.warning("camera %s has invalid stored settings, kept disabled: %s", row["id"], error)
        return CameraConfig.model_construct(
            id=row["id"], name=row["id"], tenant=row["tenant"], url="", enabled=False
        )


def _tenant_filter(tenants: Collection[str] | None) -> list[sa.ColumnElement[bool]]:
    return scope_clauses(tenants, cameras.c.tenant, cameras.c.id, "cameras")


def list_all(engine: sa.Engine, tenants: Collection[str] | None) -> list[StoredCamera]:
    statement = (
        sa.select(cameras)
        .where(*_tenant_filter(tenants))
        .order_by(cameras.c.created_ms, cameras.c.id)
    )
    with engine.connect() as connection:
        return [_from_row(row) for row in connection.execute(statement).mappings()]


def get(engine: sa.Engine, camera_id: str, tenants: Collection[str] | None) -> StoredCamera | None:
    statement = sa.select(cameras).where(cameras.c.id == camera_id, *_tenant_filter(tenants))
    with engine.connect() as connection:
        row = connection.execute(statement).mappings().first()
    return _from_row(row) if row is not None else None


def _upsert(connection: sa.Connection, camera: CameraConfig, origin: Origin, ts: int) -> None:
    if origin not in ORIGINS:
        raise ValueError(f"camera origin must be one of {ORIGINS}, got {origin!r}")
    insert = dialect_insert(connection.engine, cameras).values(
        id=camera.id,
        tenant=camera.tenant,
        name=camera.name,
        config=camera.model_dump(mode="json"),
        origin=origin,
        created_ms=ts,
        updated_ms=ts,
    )
    new = insert.excluded
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=[cameras.c.id],
            set_={
                "tenant": new.tenant,
                "name": new.name,
                "config": new.config,
                "origin": new.origin,
                "updated_ms": new.updated_ms,
            },
        )
    )


def put(engine: sa.Engine, camera: CameraConfig, origin: Origin) -> None:
    """Insert or replace a camera; its creation time is kept on replace."""
    with engine.begin() as connection:
        _upsert(connection, camera, origin, now_ms())


def delete(engine: sa.Engine, camera_id: str) -> bool:
    with engine.begin() as connection:
        result = connection.execute(sa.delete(cameras).where(cameras.c.id == camera_id))
        ptz_rows.forget_deleted(connection)
    return result.rowcount > 0


def sync_config(engine: sa.Engine, declared: Sequence[CameraConfig]) -> list[StoredCamera]:
    """Make the table agree with the config file: declared cameras are written with origin
    'config' (the file wins over an API camera of the same id), config cameras no longer
    declared are removed. Returns every camera afterwards, API-added ones included."""
    ts = now_ms()
    with engine.begin() as connection:
        # One millisecond apart, so that listing by creation time keeps the file's order
        # (a cluster's engine lists its cameras from here).
        for position, camera in enumerate(declared):
            _upsert(connection, camera, "config", ts + position)
        connection.execute(
            sa.delete(cameras).where(
                cameras.c.origin == "config", cameras.c.id.not_in([c.id for c in declared])
            )
        )
        ptz_rows.forget_deleted(connection)
    return list_all(engine, None)
