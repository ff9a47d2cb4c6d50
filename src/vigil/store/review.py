"""Review items: events grouped into what an operator looks at once.

One item per incident: the events of one track on one camera (its zone presence, loitering
and line crossings together) while they follow each other within TRACK_GAP_MS; events without
a track (tamper, stream health, count anomalies) form bursts per camera while they follow each
other within BURST_GAP_MS. An item's severity is 'alert' when a rule fired for one of its
events, 'detection' when one is of a type worth a look (loitering, intrusion, tamper …), and
'info' when all merely record presence or counts. A camera's alert setting
(vigil.domain.alert_types) overrides the grading by type: its alert types are 'alert', the rest
'info'.

Items are grouped in SQL (window functions, `_items`) over every event of the period, and only
the page asked for is read with its events, so a busy day costs one query, not a sample.

Whether an item was reviewed is kept per tenant (table `review_marks`, by the id of the item's
first event), not per user: a control room works one queue, and an incident one operator
reviewed needs no second look from the next; the mark says who reviewed it and when.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

from vigil.auth.scope import scope_clauses
from vigil.domain.alert_types import AlertTypes
from vigil.domain.events import Event
from vigil.store import alerting as alerting_rows
from vigil.store.db import dialect_insert
from vigil.store.events import from_row as event_from_row
from vigil.store.schema import alerts, events, review_marks

TRACK_GAP_MS = 60_000
BURST_GAP_MS = 30_000
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


@dataclass(frozen=True, slots=True)
class ReviewPage:
    items: list[ReviewItem]  # the newest `limit` items of the filters, newest first
    total: int  # items matching the filters
    unreviewed: int  # of those, not reviewed yet


_SEVERITY_OF_RANK: dict[int, Severity] = {rank: name for name, rank in SEVERITY_RANK.items()}


def _rank(alert_types: AlertTypes) -> sa.ColumnElement[int]:
    """An event's severity rank: 2 when a rule fired for it; else by its camera's alert
    setting (alert or just recorded); else 0 for presence and counts, 1 for the rest."""
    c = events.c
    alerted = sa.exists().where(alerts.c.event_id == c.id)
    by_setting = [
        (c.camera_id == camera_id,
         sa.case((sa.or_(c.module.in_(sorted(chosen)), c.type.in_(sorted(chosen))), 2), else_=0))
        for camera_id, chosen in sorted(alert_types.items())
    ]
    return sa.case(
        (alerted, 2), *by_setting, (c.type.in_(sorted(INFO_TYPES)), 0), else_=1
    )


def _items(where: list[Any], alert_types: AlertTypes) -> sa.Subquery:
    """The review items of the events matching `where`, grouped in SQL with window functions
    (so a busy day is never cut to a sample): within one (tenant, camera, track), ordered by
    start, an event opens a new item when it starts more than the gap after every earlier
    event ended; the running sum of those openings numbers the items."""
    c = events.c
    end = sa.case((c.end_ms > c.updated_ms, c.end_ms), else_=c.updated_ms)
    gap = sa.case((c.track_id.is_(None), BURST_GAP_MS), else_=TRACK_GAP_MS)
    part = (c.tenant, c.camera_id, c.track_id)
    order = (c.start_ms, c.id)
    before = sa.func.max(end).over(partition_by=part, order_by=order, rows=(None, -1))
    opens = sa.case((before.is_(None), 1), (c.start_ms > before + gap, 1), else_=0)
    flagged = (
        sa.select(c.id, c.tenant, c.camera_id, c.camera_name, c.track_id, c.start_ms,
                  end.label("end_ms"), _rank(alert_types).label("rank"), opens.label("opens"))
        .where(*where)
        .subquery("flagged")
    )
    f = flagged.c
    fpart = (f.tenant, f.camera_id, f.track_id)
    numbered = sa.select(
        flagged,
        sa.func.sum(f.opens).over(partition_by=fpart, order_by=(f.start_ms, f.id)).label("item"),
    ).subquery("numbered")
    n = numbered.c
    first = sa.func.first_value(n.id).over(
        partition_by=(n.tenant, n.camera_id, n.track_id, n.item), order_by=(n.start_ms, n.id)
    )
    with_first = sa.select(numbered, first.label("item_id")).subquery("with_first")
    w = with_first.c
    grouped = (
        sa.select(
            w.item_id.label("id"), w.tenant, w.camera_id, sa.func.max(w.camera_name)
            .label("camera_name"), w.track_id, sa.func.min(w.start_ms).label("start_ms"),
            sa.func.max(w.start_ms).label("last_start_ms"), sa.func.max(w.end_ms).label("end_ms"),
            sa.func.max(w.rank).label("rank"),
        )
        .group_by(w.item_id, w.tenant, w.camera_id, w.track_id)
        .subquery("grouped")
    )
    marks = review_marks.c
    return (
        sa.select(grouped, marks.reviewed_by, marks.reviewed_ms)
        .select_from(grouped.outerjoin(
            review_marks,
            sa.and_(marks.tenant == grouped.c.tenant, marks.item_id == grouped.c.id),
        ))
        .subquery("items")
    )


def load(
    engine: sa.Engine,
    tenants: Collection[str] | None,
    *,
    start_ms: int,
    end_ms: int,
    camera_ids: Collection[str] | None = None,
    severities: Collection[Severity] | None = None,
    reviewed: bool | None = None,
    limit: int = 100,
) -> ReviewPage:
    """The review items of the events that started in [start_ms, end_ms) in this scope (every
    one of them), filtered by severity and reviewed state: how many, and the newest `limit`
    with their events and reviewed marks."""
    c = events.c
    where: list[Any] = [
        c.start_ms >= start_ms,
        c.start_ms < end_ms,
        *scope_clauses(tenants, c.tenant, c.camera_id, "events"),
    ]
    if camera_ids is not None:
        where.append(c.camera_id.in_(list(camera_ids)))
    settings = {
        camera_id: frozenset(row.alert_types)
        for camera_id, row in alerting_rows.load(engine, tenants).items()
    }
    items = _items(where, settings)
    i = items.c
    keep: list[Any] = []
    if severities:
        keep.append(i.rank.in_([SEVERITY_RANK[name] for name in severities]))
    if reviewed is not None:
        keep.append(i.reviewed_ms.is_not(None) if reviewed else i.reviewed_ms.is_(None))
    # One pass of the window functions: the items (a few columns each, far fewer than events)
    # are counted here and only the page's are built.
    ordered = sa.select(items).where(*keep).order_by(i.end_ms.desc(), i.id.desc())
    with engine.connect() as connection:
        every = connection.execute(ordered).mappings().all()
        total = len(every)
        unreviewed = sum(1 for row in every if row["reviewed_ms"] is None)
        rows = every[:limit]
        found = [
            ReviewItem(
                id=row["id"], tenant=row["tenant"], camera_id=row["camera_id"],
                camera_name=row["camera_name"], track_id=row["track_id"],
                start_ms=row["start_ms"], end_ms=row["end_ms"],
                severity=_SEVERITY_OF_RANK[int(row["rank"])],
                reviewed=None if row["reviewed_by"] is None
                else Mark(row["reviewed_by"], row["reviewed_ms"]),
            )
            for row in rows
        ]
        _fill_events(connection, found, [row["last_start_ms"] for row in rows])
    return ReviewPage(found, int(total), int(unreviewed))


def _fill_events(connection: sa.Connection, items: list[ReviewItem], last_starts: list[int]
                 ) -> None:
    """Each item's events, oldest first: those of its (tenant, camera, track) that started
    from its first to its last event (items of one track never overlap in time)."""
    c = events.c
    for chunk in range(0, len(items), 100):
        pairs = list(zip(items[chunk:chunk + 100], last_starts[chunk:chunk + 100], strict=True))
        match = sa.or_(*(
            sa.and_(c.tenant == item.tenant, c.camera_id == item.camera_id,
                    c.track_id.is_(None) if item.track_id is None else c.track_id == item.track_id,
                    c.start_ms >= item.start_ms, c.start_ms <= last)
            for item, last in pairs
        ))
        statement = sa.select(events).where(match).order_by(c.start_ms, c.id)
        by_key: dict[tuple[str, str, int | None], list[Event]] = {
            (item.tenant, item.camera_id, item.track_id): [] for item, _ in pairs
        }
        for row in connection.execute(statement).mappings():
            event = event_from_row(row)
            by_key.setdefault((row["tenant"], row["camera_id"], row["track_id"]), []).append(event)
        for item, last in pairs:
            item.events = [
                event for event in by_key[(item.tenant, item.camera_id, item.track_id)]
                if item.start_ms <= event.start_ms <= last
            ]


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
