"""The segment index: which recorded segments exist per camera, by time, in the event store's
database (SQLite or PostgreSQL). Range reads use the (camera_id, start_ms) index."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from vigil.auth.scope import scope_clauses
from vigil.store.schema import recording_segments as seg

# No segment is longer than this (the recorder cuts at most a keyframe interval past its
# target length): a range read looks this far before its start for segments that overlap it,
# and the index still bounds the scan.
MAX_SEGMENT_MS = 120_000


@dataclass(frozen=True, slots=True)
class SegmentRow:
    id: str
    tenant: str
    camera_id: str
    start_ms: int
    end_ms: int
    hour_ms: int
    media_key: str  # the camera-hour file (or, recorded before hour files, the segment's own)
    bytes: int
    byte_offset: int  # where the sealed segment starts in `media_key`
    frames: int
    codec: str
    width: int
    height: int


class SegmentIndex:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def add(self, rows: Sequence[SegmentRow], connection: sa.Connection | None = None) -> None:
        """Index segments in one transaction (one commit, one WAL sync, for a whole batch), or
        in the caller's, when it has more to commit with them."""
        if not rows:
            return
        if connection is not None:
            connection.execute(sa.insert(seg), [_values(row) for row in rows])
            return
        with self.engine.begin() as c:
            c.execute(sa.insert(seg), [_values(row) for row in rows])

    def indexed_end(self, tenant: str, camera_id: str, hour_ms: int, media_key: str) -> int:
        """Where the last indexed segment of a file ends: what a crash left after it is not
        indexed (the orphan sweep cuts it off)."""
        statement = sa.select(sa.func.max(seg.c.byte_offset + seg.c.bytes)).where(
            seg.c.tenant == tenant,
            seg.c.camera_id == camera_id,
            seg.c.hour_ms == hour_ms,
            seg.c.media_key == media_key,
        )
        with self.engine.connect() as c:
            return int(c.execute(statement).scalar() or 0)

    def between(
        self,
        camera_id: str,
        start_ms: int,
        end_ms: int,
        tenants: Collection[str] | None,
        limit: int = 100_000,
    ) -> list[SegmentRow]:
        """Segments of the camera that overlap [start_ms, end_ms), oldest first, within the
        caller's scope (tenant, camera groups, the `media` kind)."""
        statement = (
            sa.select(seg)
            .where(
                seg.c.camera_id == camera_id,
                seg.c.start_ms >= start_ms - MAX_SEGMENT_MS,
                seg.c.start_ms < end_ms,
                seg.c.end_ms > start_ms,
                *scope_clauses(tenants, seg.c.tenant, seg.c.camera_id, "media"),
            )
            .order_by(seg.c.start_ms)
            .limit(limit)
        )
        with self.engine.connect() as c:
            return [SegmentRow(**row) for row in c.execute(statement).mappings()]

    def hours_before(self, cutoff_ms: int) -> list[tuple[str, str, int]]:
        """(tenant, camera, hour) of every hour with a segment starting before `cutoff_ms`."""
        statement = (
            sa.select(seg.c.tenant, seg.c.camera_id, seg.c.hour_ms)
            .where(seg.c.start_ms < cutoff_ms)
            .distinct()
            .order_by(seg.c.hour_ms)
        )
        with self.engine.connect() as c:
            return [(r[0], r[1], r[2]) for r in c.execute(statement)]

    def hours_of_tenant(self, tenant: str) -> list[tuple[str, int, int]]:
        """(camera, hour, bytes) of the tenant's recorded hours, oldest first."""
        statement = (
            sa.select(seg.c.camera_id, seg.c.hour_ms, sa.func.sum(seg.c.bytes))
            .where(seg.c.tenant == tenant)
            .group_by(seg.c.camera_id, seg.c.hour_ms)
            .order_by(seg.c.hour_ms, seg.c.camera_id)
        )
        with self.engine.connect() as c:
            return [(r[0], r[1], int(r[2] or 0)) for r in c.execute(statement)]

    def bytes_by_tenant(self) -> dict[str, int]:
        statement = sa.select(seg.c.tenant, sa.func.sum(seg.c.bytes)).group_by(seg.c.tenant)
        with self.engine.connect() as c:
            return {r[0]: int(r[1] or 0) for r in c.execute(statement)}

    def hour_segments(self, tenant: str, camera_id: str, hour_ms: int) -> list[SegmentRow]:
        statement = sa.select(seg).where(
            seg.c.tenant == tenant, seg.c.camera_id == camera_id, seg.c.hour_ms == hour_ms
        )
        with self.engine.connect() as c:
            return [SegmentRow(**row) for row in c.execute(statement).mappings()]

    def forget(self, ids: Collection[str]) -> None:
        if not ids:
            return
        with self.engine.begin() as c:
            c.execute(sa.delete(seg).where(seg.c.id.in_(list(ids))))


def _values(row: SegmentRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in SegmentRow.__slots__}
