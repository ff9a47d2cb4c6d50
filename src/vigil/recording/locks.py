"""Which recorded time an evidence lock keeps: the ranges of the events in open cases (with the
clip's pre/post-roll around them), and ranges exported for a case."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from vigil.auth.tables import case_events, cases
from vigil.domain.frames import now_ms
from vigil.store.schema import events, recording_locks

# An event's clip runs this long before its start and after its end (docs/recording.md).
CLIP_PAD_MS = 5_000


@dataclass(frozen=True, slots=True)
class LockedRange:
    camera_id: str
    start_ms: int
    end_ms: int


def lock_range(
    engine: sa.Engine, case_id: str, tenant: str, camera_id: str, start_ms: int, end_ms: int
) -> None:
    with engine.begin() as c:
        c.execute(
            sa.insert(recording_locks).values(
                case_id=case_id,
                tenant=tenant,
                camera_id=camera_id,
                start_ms=start_ms,
                end_ms=end_ms,
                created_ms=now_ms(),
            )
        )


def locked_ranges(engine: sa.Engine, tenant: str) -> list[LockedRange]:
    """Every range of `tenant` that an open case holds."""
    open_cases = sa.select(cases.c.id).where(
        cases.c.tenant == tenant, cases.c.released_ms.is_(None)
    )
    by_event = (
        sa.select(
            events.c.camera_id,
            events.c.start_ms,
            sa.func.coalesce(events.c.end_ms, events.c.updated_ms),
        )
        .join(case_events, case_events.c.event_id == events.c.id)
        .where(case_events.c.case_id.in_(open_cases), events.c.tenant == tenant)
    )
    by_export = sa.select(
        recording_locks.c.camera_id, recording_locks.c.start_ms, recording_locks.c.end_ms
    ).where(recording_locks.c.case_id.in_(open_cases), recording_locks.c.tenant == tenant)
    with engine.connect() as c:
        ranges = [
            LockedRange(r[0], int(r[1]) - CLIP_PAD_MS, int(r[2]) + CLIP_PAD_MS)
            for r in c.execute(by_event)
        ]
        ranges += [LockedRange(r[0], int(r[1]), int(r[2])) for r in c.execute(by_export)]
    return ranges


def hour_locked(ranges: list[LockedRange], camera_id: str, hour_ms: int, hour_len: int) -> bool:
    return any(
        r.camera_id == camera_id and r.start_ms < hour_ms + hour_len and r.end_ms > hour_ms
        for r in ranges
    )
