"""Event rows: idempotent upserts, lookups, keyset-paginated queries and bucketed counts."""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect

from vigil.auth.scope import ScopeKey, scope_clauses, scope_key, scope_of
from vigil.domain.event_rows import COLUMNS, JSON_COLUMNS, Row, copy_row
from vigil.domain.event_rows import supersedes as newer_state
from vigil.domain.events import SCHEMA_VERSION, Event, EventState
from vigil.store.count_rollups import HOUR_MS, counted_kinds, rollup_counts
from vigil.store.db import dialect_insert
from vigil.store.dialects import Dialect, dialect_of
from vigil.store.query import (
    CountQuery,
    CountRow,
    EventJsonPage,
    EventPage,
    EventQuery,
    decode_cursor,
    keyset,
    page,
)
from vigil.store.schema import events

# Columns a newer version of an event may change; id, tenant and camera never change.
_UPDATABLE = (
    "camera_name",
    "module",
    "type",
    "state",
    "class_name",
    "class_id",
    "track_id",
    "score",
    "box",
    "color",
    "zone",
    "line",
    "direction",
    "dwell_s",
    "start_ms",
    "end_ms",
    "updated_ms",
    "snapshot",
    "attributes",
)


def to_row(event: Event) -> dict[str, Any]:
    obj = event.object
    return {
        "id": event.id,
        "tenant": event.tenant,
        "camera_id": event.camera_id,
        "camera_name": event.camera_name,
        "module": event.module,
        "type": event.type,
        "state": event.state.value,
        "class_name": obj.class_name if obj else None,
        "class_id": obj.class_id if obj else None,
        "track_id": obj.track_id if obj else None,
        "score": obj.score if obj else None,
        "box": list(obj.box) if obj and obj.box is not None else None,
        "color": obj.color if obj else None,
        "zone": event.zone,
        "line": event.line,
        "direction": event.direction,
        "dwell_s": event.dwell_s,
        "start_ms": event.start_ms,
        "end_ms": event.end_ms,
        "updated_ms": event.updated_ms,
        "snapshot": event.snapshot,
        "attributes": event.attributes,
    }


def fields_of(row: sa.RowMapping) -> dict[str, Any]:
    """A stored event as the JSON of `Event` (equal to `Event.model_dump(mode="json")`), read
    straight from its row. The row was validated as an `Event` when written."""
    box = row["box"]
    return {
        "schema_version": SCHEMA_VERSION,
        "id": row["id"],
        "tenant": row["tenant"],
        "camera_id": row["camera_id"],
        "camera_name": row["camera_name"],
        "module": row["module"],
        "type": row["type"],
        "state": row["state"],
        "object": None
        if row["class_name"] is None
        else {
            "class_name": row["class_name"],
            "class_id": row["class_id"],
            "track_id": row["track_id"],
            "score": row["score"],
            "box": [float(value) for value in box] if box is not None else None,
            "color": row["color"],
        },
        "zone": row["zone"],
        "line": row["line"],
        "direction": row["direction"],
        "dwell_s": row["dwell_s"],
        "start_ms": row["start_ms"],
        "end_ms": row["end_ms"],
        "updated_ms": row["updated_ms"],
        "snapshot": row["snapshot"],
        "attributes": row["attributes"] or {},
    }


def from_row(row: sa.RowMapping) -> Event:
    return Event.model_validate(fields_of(row))


def supersedes(new: Event, old: Event) -> bool:
    """Whether `new` should replace `old` (same id): an ended event never goes back to active;
    otherwise the later `updated_ms` wins, and on a tie the newer arrival."""
    return newer_state(
        new.state is EventState.ENDED, new.updated_ms, old.state is EventState.ENDED, old.updated_ms
    )


def collapse(batch: Iterable[Event]) -> list[Event]:
    """One event per id, the one that `supersedes` the others, in first-seen order.
    PostgreSQL refuses an upsert that touches one row twice, and it saves work on SQLite."""
    latest: dict[str, Event] = {}
    for event in batch:
        current = latest.get(event.id)
        if current is None or supersedes(event, current):
            latest[event.id] = event
    return list(latest.values())


def upsert(engine: sa.Engine, batch: list[Event]) -> int:
    """Write `batch` in one transaction; returns the number of distinct events written."""
    return upsert_rows(engine, [copy_row(event) for event in collapse(batch)])


def upsert_rows(engine: sa.Engine, rows: list[Row]) -> int:
    """Write `rows` (`vigil.domain.event_rows`, distinct ids) in one transaction, with the same rule
    as `supersedes`; returns how many."""
    if not rows:
        return 0
    if dialect_of(engine).partitioned_events:
        # Day-partitioned table keyed by (id, start_ms); big batches go through binary COPY.
        from vigil.store import postgres

        return postgres.upsert_events(engine, rows, _on_conflict_update)
    with engine.begin() as connection:
        connection.execute(
            _on_conflict_update(dialect_insert(engine, events)), [row_dict(row) for row in rows]
        )
    return len(rows)


def row_dict(row: Row) -> dict[str, Any]:
    """A row as the SQLAlchemy insert takes it (JSON columns as values, not text)."""
    values = dict(zip(COLUMNS, row, strict=True))
    for name in JSON_COLUMNS:
        if values[name] is not None:
            values[name] = json.loads(values[name])
    return values


def _on_conflict_update(insert: Any) -> Any:
    """`insert` (SQLite or PostgreSQL INSERT, VALUES or SELECT) made an idempotent upsert."""
    new = insert.excluded
    # The same rule as `supersedes`, in SQL, so a replayed or late message never overwrites a
    # newer stored state.
    newer = sa.or_(
        sa.and_(new.state == EventState.ENDED.value, events.c.state != EventState.ENDED.value),
        sa.and_(new.state == events.c.state, new.updated_ms >= events.c.updated_ms),
    )
    # PostgreSQL's partitioned table needs the partition key in its primary key; an event's
    # start never changes, so (id, start_ms) identifies it as well as id does.
    on_postgresql = isinstance(insert, pg_dialect.Insert)
    keys = [events.c.id, events.c.start_ms] if on_postgresql else [events.c.id]
    return insert.on_conflict_do_update(
        index_elements=keys,
        set_={name: new[name] for name in _UPDATABLE},
        where=newer,
    )


def _in(column: sa.ColumnElement[Any], values: Collection[str] | None) -> list[Any]:
    return [] if values is None else [column.in_(list(values))]


def get(engine: sa.Engine, event_id: str, tenants: Collection[str] | None) -> Event | None:
    statement = sa.select(events).where(
        events.c.id == event_id,
        *scope_clauses(tenants, events.c.tenant, events.c.camera_id, "events"),
    )
    with engine.connect() as connection:
        row = connection.execute(statement).mappings().first()
    return from_row(row) if row is not None else None


def by_ids(tenants: Collection[str] | None) -> sa.Select[Any]:
    """The events whose ids are the `ids` parameter (a list) in the scope: what `get_many`
    runs. One statement per scope, built once: building it per call cost a third of a search's
    fetch (0.6 of 1.7 ms)."""
    return _by_ids(scope_key(tenants))


@functools.lru_cache(maxsize=256)
def _by_ids(scope: ScopeKey) -> sa.Select[Any]:
    # The scope is applied to the columns as expressions (`|| ''`), which no index serves: the
    # ids are then looked up by primary key and the few rows found are filtered. On the bare
    # columns SQLite walked the tenant's index instead, 240 ms at 1M events against 1 ms.
    return sa.select(events).where(
        events.c.id.in_(sa.bindparam("ids", expanding=True)),
        *scope_clauses(
            scope_of(scope), events.c.tenant.concat(""), events.c.camera_id.concat(""), "events"
        ),
    )


def get_many(
    engine: sa.Engine, event_ids: Collection[str], tenants: Collection[str] | None
) -> dict[str, Event]:
    """The events among `event_ids` that the scope covers (tenant, camera groups, kind), by id.
    Search resolves its hits here, so a hit outside the caller's cameras is never returned."""
    if not event_ids:
        return {}
    with engine.connect() as connection:
        rows = connection.execute(by_ids(tenants), {"ids": list(event_ids)}).mappings().all()
    return {row["id"]: from_row(row) for row in rows}


AnyRow = sa.Row[*tuple[Any, ...]]  # a row of any columns


def _bound(name: str) -> sa.BindParameter[int]:
    return sa.bindparam(name, type_=sa.BigInteger)


# The filters of an event query that compare a column with one value, by the query's field.
_EQUAL = {"module": events.c.module, "type": events.c.type, "zone": events.c.zone,
          "line": events.c.line, "state": events.c.state}


@dataclass(frozen=True, slots=True)
class _EventShape:
    """Everything that shapes an event query's statement but the values it takes as
    parameters: the scope (spelled out, `scope_key`), which filters are set, and whether the
    page starts after a cursor."""

    scope: ScopeKey
    filters: frozenset[str]
    after: bool

    @classmethod
    def of(cls, q: EventQuery, values: dict[str, Any]) -> _EventShape:
        """The shape of `q`, whose set filters' values (`_parameters`) are `values`."""
        return cls(scope_key(q.tenants), frozenset(values), q.cursor is not None)


def _parameters(q: EventQuery) -> dict[str, Any]:
    """The values of the query's filters that are set, by field: what `_filters` binds."""
    values: dict[str, Any] = {
        "start_ms": q.start_ms, "end_ms": q.end_ms, "module": q.module, "type": q.type,
        "zone": q.zone, "line": q.line, "state": None if q.state is None else q.state.value,
        "camera_ids": None if q.camera_ids is None else list(q.camera_ids),
        "class_names": None if q.class_names is None else list(q.class_names),
    }
    return {name: value for name, value in values.items() if value is not None}


def _filters(shape: _EventShape) -> list[Any]:
    """The WHERE clauses of a query's scope and filters (not its cursor), the filters' values
    as bind parameters named as `_parameters` names them."""
    c = events.c
    where: list[Any] = scope_clauses(scope_of(shape.scope), c.tenant, c.camera_id, "events")
    for name, column in (("camera_ids", c.camera_id), ("class_names", c.class_name)):
        if name in shape.filters:
            where.append(column.in_(sa.bindparam(name, expanding=True)))
    where += [column == sa.bindparam(name) for name, column in _EQUAL.items()
              if name in shape.filters]
    if "start_ms" in shape.filters:
        where.append(c.start_ms >= _bound("start_ms"))
    if "end_ms" in shape.filters:
        where.append(c.start_ms < _bound("end_ms"))
    return where


@functools.lru_cache(maxsize=256)
def _event_count_statement(shape: _EventShape) -> sa.Select[Any]:
    return sa.select(sa.func.count()).select_from(events).where(*_filters(shape))


@functools.lru_cache(maxsize=256)
def _page_statement(shape: _EventShape, as_json: Dialect | None) -> sa.Select[Any]:
    """A page's statement: whole rows, or with `as_json` (the database's dialect) each
    event's (start_ms, id, JSON)."""
    c = events.c
    columns = [events] if as_json is None else [c.start_ms, c.id, _event_json(as_json)]
    after: tuple[Any, Any] | None = None
    if shape.after:
        after = _bound("after_ms"), sa.bindparam("after_id")
    rows = sa.bindparam("page_rows", type_=sa.Integer)
    return keyset(sa.select(*columns).where(*_filters(shape)), c.start_ms, c.id, after, rows)


def _page(engine: sa.Engine, q: EventQuery, as_json: Dialect | None) -> list[AnyRow]:
    """The rows of the query's page, one more than its limit (`keyset`). The statement is
    built once per shape and run with the query's values: building it on every call cost
    0.6-1.1 ms of the 1.8-2.9 ms a page took (docs/benchmarks.md)."""
    values = _parameters(q)
    statement = _page_statement(_EventShape.of(q, values), as_json)
    params = {**values, "page_rows": q.limit + 1}
    if q.cursor is not None:
        params["after_ms"], params["after_id"] = decode_cursor(q.cursor)
    with engine.connect() as connection:
        return list(connection.execute(statement, params))


def count(engine: sa.Engine, q: EventQuery) -> int:
    """How many events match the query's filters in its scope (all pages together)."""
    values = _parameters(q)
    statement = _event_count_statement(_EventShape.of(q, values))
    with engine.connect() as connection:
        return int(connection.execute(statement, values).scalar_one())


def query(engine: sa.Engine, q: EventQuery) -> EventPage:
    rows = _page(engine, q, None)
    items, next_cursor = page(
        [from_row(row._mapping) for row in rows], q.limit, lambda event: (event.start_ms, event.id)
    )
    return EventPage(items=items, next_cursor=next_cursor)


def page_json(engine: sa.Engine, q: EventQuery) -> EventJsonPage:
    """`query`'s page with every event rendered to its JSON (`Event.model_dump(mode="json")`,
    once parsed) by the database. Read into Python and serialised there, a page of 50 cost
    2.4-3.0 ms of CPU against 1.6-1.75 ms this way, before its statement was kept per shape
    (1M events, docs/benchmarks.md)."""
    rows = _page(engine, q, dialect_of(engine))
    kept, next_cursor = page(rows, q.limit, lambda row: (row[0], row[1]))
    items_json = f"[{','.join(row[2] for row in kept)}]"
    return EventJsonPage(items_json=items_json, next_cursor=next_cursor)


@functools.cache
def _event_json(dialect: Dialect) -> sa.ColumnElement[str]:
    """A row as the JSON of its `Event`, `fields_of` in SQL; built once per database."""
    c = events.c
    obj = dialect.json_object({
        "class_name": c.class_name,
        "class_id": c.class_id,
        "track_id": c.track_id,
        "score": dialect.json_float(c.score),
        "box": dialect.json_column(c.box),
        "color": c.color,
    })
    event = dialect.json_object({
        "schema_version": sa.literal_column(str(SCHEMA_VERSION)),
        "id": c.id,
        "tenant": c.tenant,
        "camera_id": c.camera_id,
        "camera_name": c.camera_name,
        "module": c.module,
        "type": c.type,
        "state": c.state,
        "object": sa.case((c.class_name.is_(None), sa.null()), else_=obj),
        "zone": c.zone,
        "line": c.line,
        "direction": c.direction,
        "dwell_s": dialect.json_float(c.dwell_s),
        "start_ms": c.start_ms,
        "end_ms": c.end_ms,
        "updated_ms": c.updated_ms,
        "snapshot": c.snapshot,
        "attributes": dialect.json_column(c.attributes),
    })
    # Inlined as SQL text: as an expression, its cache key cost SQLAlchemy 0.3 ms per page.
    return sa.literal_column(dialect.sql(dialect.json_text(event))).label("event_json")


# How long before a window an event may have started and still count in it: bounds the
# query to recent day partitions (an event that lasts longer is left out).
LONGEST_EVENT_MS = 86_400_000


def changed_since(
    engine: sa.Engine,
    *,
    tenant: str,
    since_ms: int,
    limit: int,
    camera_ids: Collection[str] | None = None,
    class_names: Collection[str] | None = None,
    module: str | None = None,
    type: str | None = None,
    zone: str | None = None,
    line: str | None = None,
) -> list[Event]:
    """Events of `tenant` whose latest state was observed at or after `since_ms`, newest
    first, at most `limit`: what an alert evaluator taking over rebuilds count windows from."""
    c = events.c
    where: list[Any] = [
        c.tenant == tenant,
        c.updated_ms >= since_ms,
        c.start_ms >= since_ms - LONGEST_EVENT_MS,
        *_in(c.camera_id, camera_ids),
        *_in(c.class_name, class_names),
    ]
    for column, value in ((c.module, module), (c.type, type), (c.zone, zone), (c.line, line)):
        if value is not None:
            where.append(column == value)
    statement = (
        sa.select(events).where(*where).order_by(c.start_ms.desc(), c.id.desc()).limit(limit)
    )
    with engine.connect() as connection:
        return [from_row(row) for row in connection.execute(statement).mappings()]


def _raw_counts(
    q: CountQuery, start_ms: sa.BindParameter[int], end_ms: sa.BindParameter[int]
) -> sa.Select[Any]:
    """The counts of [start_ms, end_ms) aggregated from the events themselves."""
    c = events.c
    interval_ms = sa.bindparam("interval_ms", q.interval_s * 1000, type_=sa.BigInteger)
    kinds = counted_kinds(c, q)
    # Counts named by camera walk the camera's index: with the tenant on its bare column SQLite
    # took the tenant's instead and read every camera's events of the range (1.6 ms against
    # 0.3 for the partial first hour of a camera's day, 1M events). `|| ''` keeps the tenant
    # clause off every index.
    tenant = c.tenant if q.camera_ids is None else c.tenant.concat("")
    # Integer division of epoch ms gives epoch-aligned buckets. The bucket is computed in a
    # subquery so GROUP BY names a column, not an expression with a bound parameter, which
    # PostgreSQL would not recognise as the same expression as the one in the select list.
    bucketed = (
        sa.select(
            (c.start_ms // interval_ms).label("bucket"),
            c.camera_id,
            c.line,
            c.zone,
            c.class_name,
            c.direction,
        )
        .where(
            sa.or_(*kinds),
            c.start_ms >= start_ms,
            c.start_ms < end_ms,
            *scope_clauses(q.tenants, tenant, c.camera_id, "stats"),
            *_in(c.camera_id, q.camera_ids),
            *_in(c.class_name, q.class_names),
        )
        .subquery()
    )
    names = ("bucket", "camera_id", "line", "zone", "class_name", "direction")
    keys = [bucketed.c[name] for name in names]
    return sa.select(*keys, sa.func.count().label("n")).group_by(*keys)


def _values(values: Collection[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


@dataclass(frozen=True, slots=True)
class _CountShape:
    """Everything that shapes a count's statement but its time range, which the statement
    takes as parameters; the scope spelled out (`scope_key`)."""

    scope: ScopeKey
    camera_ids: tuple[str, ...] | None
    lines: tuple[str, ...] | None
    zones: tuple[str, ...] | None
    class_names: tuple[str, ...] | None
    interval_s: int
    head: bool  # raw events from start_ms (the whole range without rollups)
    tail: bool  # raw events of the partial last hour
    hours: bool  # rollups of the whole hours

    @classmethod
    def of(cls, q: CountQuery, head: bool, tail: bool, hours: bool) -> _CountShape:
        return cls(
            scope=scope_key(q.tenants),
            camera_ids=_values(q.camera_ids),
            lines=_values(q.lines),
            zones=_values(q.zones),
            class_names=_values(q.class_names),
            interval_s=q.interval_s,
            head=head,
            tail=tail,
            hours=hours,
        )

    def query(self) -> CountQuery:
        """A query of this shape, for the builders (its time range is never read)."""
        return CountQuery(
            start_ms=0, end_ms=0, interval_s=self.interval_s, tenants=scope_of(self.scope),
            camera_ids=self.camera_ids, lines=self.lines, zones=self.zones,
            class_names=self.class_names,
        )


# Building a count's statement cost SQLAlchemy 2.3-2.5 ms of the 9-12 a count takes (one camera's
# day in hours, 1M events); a dashboard asks the same shape again and again.
@functools.lru_cache(maxsize=256)
def _counts_statement(shape: _CountShape) -> sa.Select[Any] | sa.CompoundSelect:
    q = shape.query()
    parts: list[sa.Select[Any]] = []
    if shape.head:
        parts.append(_raw_counts(q, _bound("head_start_ms"), _bound("head_end_ms")))
    if shape.tail:
        parts.append(_raw_counts(q, _bound("tail_start_ms"), _bound("tail_end_ms")))
    if shape.hours:
        parts.append(rollup_counts(q, _bound("first_hour"), _bound("end_hour")))
    # One statement, one round trip: on PostgreSQL three were slower than the raw count at
    # 100,000 events.
    return sa.union_all(*parts) if len(parts) > 1 else parts[0]


def counts(engine: sa.Engine, q: CountQuery, *, rollups: bool = True) -> list[CountRow]:
    """Counted events per bucket. With buckets of whole hours, the whole hours of the range
    come from the hourly rollups (`vigil.store.count_rollups`, exact: kept by triggers) and
    only its partial first and last hours from the events themselves. `rollups=False` counts
    everything from the events (what `vigil bench api` compares against)."""
    params = {"head_start_ms": q.start_ms, "head_end_ms": q.end_ms}
    tail = hours = False
    if rollups and q.interval_s % (HOUR_MS // 1000) == 0:
        first, last = -(-q.start_ms // HOUR_MS), q.end_ms // HOUR_MS  # whole hours inside
        if first < last:
            hours, tail = True, last * HOUR_MS < q.end_ms
            params.update(head_end_ms=first * HOUR_MS, tail_start_ms=last * HOUR_MS,
                          tail_end_ms=q.end_ms, first_hour=first, end_hour=last)
    head = params["head_start_ms"] < params["head_end_ms"]
    if not (head or tail or hours):
        return []  # an empty range
    statement = _counts_statement(_CountShape.of(q, head, tail, hours))
    totals: Counter[tuple[Any, ...]] = Counter()
    with engine.connect() as connection:
        rows = connection.execute(statement, params).all()
    for bucket, camera_id, line, zone, class_name, direction, n in rows:
        # '' for a missing value, as the rollups store it: one key whichever part counted it,
        # and an order that does not depend on where a database sorts NULLs.
        totals[
            (int(bucket), camera_id, line or "", zone or "", class_name or "", direction or "")
        ] += int(n)
    step_ms = q.interval_s * 1000
    return [
        CountRow(bucket * step_ms, camera_id, line or None, zone or None, class_name,
                 direction or None, n)
        for (bucket, camera_id, line, zone, class_name, direction), n in sorted(totals.items())
    ]
