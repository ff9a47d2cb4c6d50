"""Site map rows: a tenant's floor plan or tile URL, and where its cameras stand on it.

Positions are in the map's own coordinates: pixels of the floor plan (x right, y down), or
for a tile map x = longitude and y = latitude. Range is in the same units as the plan's
pixels, or metres on a tile map.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from vigil.auth.scope import scope_clauses
from vigil.domain.frames import now_ms
from vigil.store.db import dialect_insert
from vigil.store.schema import site_maps, site_places


@dataclass(frozen=True, slots=True)
class SiteMap:
    tenant: str
    image_type: str | None
    width: int | None
    height: int | None
    tile_url: str | None
    center: list[float] | None
    zoom: float | None
    updated_ms: int


@dataclass(frozen=True, slots=True)
class Place:
    camera_id: str
    tenant: str
    x: float
    y: float
    direction_deg: float
    fov_deg: float
    range: float


def _upsert(engine: sa.Engine, table: sa.Table, key: str, values: dict[str, Any]) -> None:
    insert = dialect_insert(engine, table).values(**values)
    update = {name: insert.excluded[name] for name in values if name != key}
    with engine.begin() as connection:
        connection.execute(insert.on_conflict_do_update(index_elements=[key], set_=update))


def get_map(engine: sa.Engine, tenant: str) -> SiteMap | None:
    c = site_maps.c
    statement = sa.select(
        c.tenant, c.image_type, c.width, c.height, c.tile_url, c.center, c.zoom, c.updated_ms
    ).where(c.tenant == tenant)
    with engine.connect() as connection:
        row = connection.execute(statement).mappings().first()
    return SiteMap(**row) if row is not None else None


def get_plan(engine: sa.Engine, tenant: str) -> tuple[bytes, str] | None:
    statement = sa.select(site_maps.c.image, site_maps.c.image_type).where(
        site_maps.c.tenant == tenant, site_maps.c.image.is_not(None)
    )
    with engine.connect() as connection:
        row = connection.execute(statement).first()
    return (bytes(row[0]), str(row[1])) if row is not None else None


def _current(engine: sa.Engine, tenant: str) -> dict[str, Any]:
    existing = get_map(engine, tenant)
    if existing is None:
        return {"tenant": tenant, "tile_url": None, "center": None, "zoom": None}
    return {
        "tenant": tenant,
        "tile_url": existing.tile_url,
        "center": existing.center,
        "zoom": existing.zoom,
    }


def put_plan(
    engine: sa.Engine,
    tenant: str,
    image: bytes | None,
    image_type: str | None,
    size: tuple[int, int] | None,
) -> None:
    """Set (or with None, remove) the floor plan; the tile settings stay as they are."""
    width, height = size if size else (None, None)
    values = {
        **_current(engine, tenant),
        "image": image,
        "image_type": image_type,
        "width": width,
        "height": height,
        "updated_ms": now_ms(),
    }
    _upsert(engine, site_maps, "tenant", values)


def put_settings(
    engine: sa.Engine,
    tenant: str,
    tile_url: str | None,
    center: list[float] | None,
    zoom: float | None,
) -> None:
    insert_values = {
        "tenant": tenant,
        "tile_url": tile_url,
        "center": center,
        "zoom": zoom,
        "updated_ms": now_ms(),
    }
    _upsert(engine, site_maps, "tenant", insert_values)


def list_places(engine: sa.Engine, tenants: Collection[str] | None) -> list[Place]:
    c = site_places.c
    statement = (
        sa.select(c.camera_id, c.tenant, c.x, c.y, c.direction_deg, c.fov_deg, c.range)
        .where(*scope_clauses(tenants, c.tenant, c.camera_id, "cameras"))
        .order_by(c.camera_id)
    )
    with engine.connect() as connection:
        return [Place(**row) for row in connection.execute(statement).mappings()]


def put_place(engine: sa.Engine, place: Place) -> None:
    values = {
        "camera_id": place.camera_id,
        "tenant": place.tenant,
        "x": place.x,
        "y": place.y,
        "direction_deg": place.direction_deg,
        "fov_deg": place.fov_deg,
        "range": place.range,
        "updated_ms": now_ms(),
    }
    _upsert(engine, site_places, "camera_id", values)


def delete_place(engine: sa.Engine, camera_id: str) -> bool:
    with engine.begin() as connection:
        result = connection.execute(
            sa.delete(site_places).where(site_places.c.camera_id == camera_id)
        )
    return bool(result.rowcount)
