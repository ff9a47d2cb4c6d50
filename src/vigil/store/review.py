"""Review items: events grouped into what an operator looks at once.

One item per incident: the events of one track on one camera (its zone presence, loitering
and line crossings together) while they follow each other within TRACK_GAP_MS; events without
a track (tamper, stream health, count anomalies) form bursts per camera while they follow each
other within BURST_GAP_MS. An item's severity is 'alert' when a rule fired for one of its
events, 'detection' when one is of a type worth a look (loitering, intrusion, tamper …), and
'info' when all merely record presence or counts. A camera's alert setting
(vigil.alerts.alerting) overrides the grading by type: its alert types are 'alert', the rest
'info'.

Whether an item was reviewed is kept per tenant (table `review_marks`, by the id of the item's
first event), not per user: a control room works one queue, and an incident one operator
reviewed needs no second look from the next; the mark says who reviewed it and when.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

from vigil.alerts.alerting import AlertTypes, counts_as_alert
from vigil.auth.scope import scope_clauses
from vigil.domain.events import Event
from vigil.store import alerting as alerting_rows
from vigil.store.db import dialect_insert
from vigil.store.events import from_row as event_from_row
from vigil.store.schema import alerts, events, review_marks

TRACK_GAP_MS = 60_000
BURST_GAP_MS = 30_000
READ_LIMIT = 5000  # events grouped per request at most (the newest)
# Types that record presence or counts: kept, but seldom worth an operator's look by themselves.
INFO_TYPES = frozenset(
    {"zone.presence", "line.crossing", "queue.member", "traffic_flow.entry", "parking.occupied"}
)
Severity = Literal["alert", "detection", "info"]
SEVERITY_RANK: dict[Severity, int] = {"info": 0, "detection": 1, "alert": 2}


@dataclass(frozen=True, slots=True)
class Mark:
    by: str
    at_ms: int


@dataclass
class ReviewItem:
    id: str  # the first event's id: stable while later events join
    tenant: str
    camera_id: str
    camera_name: str
    track_id: int | None
    start_ms: int
    end_ms: int
    events: list[Event] = field(default_factory=list)
    severity: Severity = "info"
    reviewed: Mark | None = None

    @property
    def cover(self) -> Event:
        """The event whose snapshot stands for the item: the most severe, then the latest."""
        with_snapshot = [event for event in self.events if event.snapshot] or self.events
        return max(with_snapshot, key=lambda event: (event.type not in INFO_TYPES, event.start_ms))


def _end(event: Event) -> int:
    return max(event.end_ms or event.updated_ms, event.updated_ms, event.start_ms)


def group(
    stored: Iterable[Event], alerted: Collection[str], alert_types: AlertTypes | None = None
) -> list[ReviewItem]:
    """Items of `stored` (any order), newest first; `alerted`: event ids a rule fired for;
    `alert_types`: the per-camera alert settings (vigil.alerts.alerting)."""
    open_items: dict[tuple[str, str, int | None], ReviewItem] = {}
    items: list[ReviewItem] = []
    for event in sorted(stored, key=lambda e: (e.start_ms, e.id)):
        track = event.object.track_id if event.object is not None else None
        key = (event.tenant, event.camera_id, track)
        gap = TRACK_GAP_MS if track is not None else BURST_GAP_MS
        item = open_items.get(key)
        if item is None or event.start_ms > item.end_ms + gap:
            item = ReviewItem(
                id=event.id,
                tenant=event.tenant,
                camera_id=event.camera_id,
                camera_name=event.camera_name,
                track_id=track,
                start_ms=event.start_ms,
                end_ms=_end(event),
            )
            open_items[key] = item
            items.append(item)
        item.events.append(event)
        item.end_ms = max(item.end_ms, _end(event))
        severity = _severity(event, alerted, alert_types or {})
        if SEVERITY_RANK[severity] > SEVERITY_RANK[item.severity]:
            item.severity = severity
    items.sort(key=lambda item: (item.end_ms, item.id), reverse=True)
    return items


def _severity(event: Event, alerted: Collection[str], alert_types: AlertTypes) -> Severity:
    if event.id in alerted:
        return "alert"
    setting = counts_as_alert(alert_types, event.camera_id, event.module, event.type)
    if setting is not None:
        # The camera's setting decides: its alert types are alerts, the rest just recorded.
        return "alert" if setting else "info"
    return "info" if event.type in INFO_TYPES else "detection"


def load(
    engine: sa.Engine,
    tenants: Collection[str] | None,
    *,
    start_ms: int,
    end_ms: int,
    camera_ids: Collection[str] | None = None,
) -> tuple[list[ReviewItem], bool]:
    """The review items of the events that started in [start_ms, end_ms) in this scope, with
    their reviewed marks; and whether more events than READ_LIMIT were there (the oldest are
    then left out)."""
    c = events.c
    where: list[Any] = [
        c.start_ms >= start_ms,
        c.start_ms < end_ms,
        *scope_clauses(tenants, c.tenant, c.camera_id, "events"),
    ]
    if camera_ids is not None:
        where.append(c.camera_id.in_(list(camera_ids)))
    statement = (
        sa.select(events)
        .where(*where)
        .order_by(c.start_ms.desc(), c.id.desc())
        .limit(READ_LIMIT + 1)
    )
    with engine.connect() as connection:
        rows = connection.execute(statement).mappings().all()
        stored = [event_from_row(row) for row in rows[:READ_LIMIT]]
        ids = [event.id for event in stored]
        alerted = (
            {
                event_id
                for (event_id,) in connection.execute(
                    sa.select(alerts.c.event_id).where(alerts.c.event_id.in_(ids))
                )
            }
            if ids
            else set()
        )
    settings = {
        camera_id: frozenset(row.alert_types)
        for camera_id, row in alerting_rows.load(engine, tenants).items()
    }
    items = group(stored, alerted, settings)
    marks = marks_for(engine, {(item.tenant, item.id) for item in items})
    for item in items:
        item.reviewed = marks.get((item.tenant, item.id))
    return items, len(rows) > READ_LIMIT


def marks_for(engine: sa.Engine, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], Mark]:
    if not keys:
        return {}
    m = review_marks.c
    statement = sa.select(review_marks).where(m.item_id.in_([item for _, item in keys]))
    with engine.connect() as connection:
        rows = connection.execute(statement).mappings().all()
    return {
        (row["tenant"], row["item_id"]): Mark(row["reviewed_by"], row["reviewed_ms"])
        for row in rows
        if (row["tenant"], row["item_id"]) in keys
    }


def set_reviewed(
    engine: sa.Engine, tenant: str, item_id: str, *, by: str | None, at_ms: int
) -> None:
    """Mark an item reviewed (`by` the user) or, with `by` None, unreviewed again."""
    m = review_marks.c
    with engine.begin() as connection:
        if by is None:
            connection.execute(
                sa.delete(review_marks).where(m.tenant == tenant, m.item_id == item_id)
            )
            return
        insert = dialect_insert(engine, review_marks).values(
            tenant=tenant, item_id=item_id, reviewed_by=by[:128], reviewed_ms=at_ms
        )
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=[m.tenant, m.item_id],
                set_={
                    "reviewed_by": insert.excluded.reviewed_by,
                    "reviewed_ms": insert.excluded.reviewed_ms,
                },
            )
        )
