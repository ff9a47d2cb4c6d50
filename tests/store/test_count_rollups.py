"""Counts from the hourly rollups equal counts of the stored events, on SQLite and PostgreSQL,
whatever way the events were written, changed or deleted.

The oracle is the events table itself, read back and counted in Python: the rollups are kept by
triggers (vigil.store.count_rollups), so every write path — small upserts, PostgreSQL's COPY
of large batches, an end that changes an event's class, late events in past hours, retention's
deletes, an upgrade of a database that already holds events — must leave them exact.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Collection

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from tests.store.conftest import BASE_MS
from vigil.auth.scope import AccessScope
from vigil.domain.events import Event, EventState
from vigil.store import EventStore
from vigil.store.db import MIGRATIONS
from vigil.store.events import from_row
from vigil.store.query import CountQuery
from vigil.store.schema import count_rollups, events

MakeEvent = Callable[..., Event]
HOUR = 3_600_000
T0 = (BASE_MS // HOUR) * HOUR - 24 * HOUR  # a whole UTC hour, a day before BASE_MS


def stored(store: EventStore) -> list[Event]:
    with store.engine.connect() as connection:
        return [from_row(row) for row in connection.execute(sa.select(events)).mappings()]


def expected(store: EventStore, q: CountQuery) -> Counter[tuple[object, ...]]:
    """What `q` should answer, counted from the stored events in Python."""
    interval = q.interval_s * 1000
    out: Counter[tuple[object, ...]] = Counter()
    for event in stored(store):
        if q.lines is None and q.zones is None:
            counted = event.type in ("line.crossing", "zone.presence")
        else:  # each filter keeps only its own kind
            counted = (event.type == "line.crossing" and event.line in (q.lines or ())) or (
                event.type == "zone.presence" and event.zone in (q.zones or ())
            )
        assert event.object is not None
        if (
            not counted
            or not q.start_ms <= event.start_ms < q.end_ms
            or (q.tenants is not None and event.tenant not in q.tenants)
            or (q.camera_ids is not None and event.camera_id not in q.camera_ids)
            or (
                isinstance(q.tenants, AccessScope)
                and q.tenants.cameras is not None
                and event.camera_id not in q.tenants.cameras
            )
            or (q.class_names is not None and event.object.class_name not in q.class_names)
        ):
            continue
        bucket = event.start_ms // interval * interval
        key = (bucket, event.camera_id, event.line, event.zone, event.object.class_name,
               event.direction)
        out[key] += 1
    return out


def answered(store: EventStore, q: CountQuery) -> Counter[tuple[object, ...]]:
    rows = store.counts(q)
    assert all(row.count > 0 for row in rows)
    return Counter(
        {
            (r.bucket_start_ms, r.camera_id, r.line, r.zone, r.class_name, r.direction): r.count
            for r in rows
        }
    )


def random_events(make_event: MakeEvent, count: int, seed: int) -> list[Event]:
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        kind = rng.choice(["line", "line", "zone", "loitering"])
        start = T0 + rng.randrange(0, 30 * HOUR)
        common = {
            "start_ms": start,
            "tenant": rng.choice(["default", "other"]),
            "camera_id": rng.choice(["cam-a", "cam-b", "cam-c"]),
            "class_name": rng.choice(["person", "car"]),
            "state": EventState.ACTIVE,
        }
        if kind == "line":
            made.append(make_event(**common, line=rng.choice(["door", "gate"]),
                                   direction=rng.choice(["in", "out"])))
        else:
            made.append(make_event(**common, module=kind, type=f"{kind}.presence"
                                   if kind == "zone" else kind, line=None, direction=None,
                                   zone=rng.choice(["lot", "yard"])))
    return made


def ended(event: Event, **changes: object) -> Event:
    end = event.start_ms + 5_000
    return event.model_copy(
        update={"state": EventState.ENDED, "end_ms": end, "updated_ms": end, **changes}
    )


QUERIES = [
    CountQuery(start_ms=T0, end_ms=T0 + 30 * HOUR, interval_s=3600),
    CountQuery(start_ms=T0, end_ms=T0 + 30 * HOUR, interval_s=86400),
    # Partial first and last hours: those come from the events, the rest from rollups.
    CountQuery(start_ms=T0 + 1_234_567, end_ms=T0 + 20 * HOUR + 77_000, interval_s=7200),
    CountQuery(start_ms=T0 + 123, end_ms=T0 + HOUR - 5, interval_s=3600),  # no whole hour
    CountQuery(start_ms=T0 + HOUR, end_ms=T0 + HOUR, interval_s=3600),  # empty
    CountQuery(start_ms=T0, end_ms=T0 + 30 * HOUR, interval_s=3600, lines=["door"]),
    CountQuery(start_ms=T0, end_ms=T0 + 30 * HOUR, interval_s=3600, zones=["yard"],
               class_names=["car"]),
    CountQuery(start_ms=T0, end_ms=T0 + 30 * HOUR, interval_s=3600, tenants=["other"],
               camera_ids=["cam-a", "cam-c"]),
    # A camera's day as a dashboard asks it: hours, partial first and last hours, a scope.
    CountQuery(start_ms=T0 + 1_234_567, end_ms=T0 + 20 * HOUR + 77_000, interval_s=3600,
               tenants=AccessScope(["default"], cameras=["cam-a", "cam-b"]),
               camera_ids=["cam-a"]),
    CountQuery(start_ms=T0, end_ms=T0 + 30 * HOUR, interval_s=10800,
               tenants=AccessScope(["default"], cameras=["cam-b"])),
]


def assert_exact(store: EventStore) -> None:
    for q in QUERIES:
        assert answered(store, q) == expected(store, q), q
    with store.engine.connect() as connection:
        in_rollups = connection.execute(sa.select(sa.func.sum(count_rollups.c.n))).scalar()
    counted = sum(e.type in ("line.crossing", "zone.presence") for e in stored(store))
    assert int(in_rollups or 0) == counted > 0  # the hours really come from the rollups


def test_rollups_answer_what_the_events_count(store: EventStore, make_event: MakeEvent) -> None:
    first = random_events(make_event, 300, seed=1)
    for index in range(0, len(first), 40):  # small batches: plain upserts
        store.upsert_events(first[index : index + 40])
    store.upsert_events(random_events(make_event, 700, seed=2))  # one large batch (COPY)
    assert_exact(store)
    # Ends: most keep what is counted, some change the class, some arrive twice (replayed).
    ends = [ended(e, object=e.object.model_copy(update={"class_name": "bicycle"}))
            if i % 7 == 0 and e.object is not None else ended(e) for i, e in enumerate(first)]
    store.upsert_events(ends)
    store.upsert_events(ends[:50])
    # A stale message (older state) must not change anything either.
    store.upsert_events([first[3].model_copy(update={"updated_ms": first[3].start_ms - 1})])
    assert_exact(store)
    # Retention deletes rows.
    with store.engine.begin() as connection:
        connection.execute(sa.delete(events).where(events.c.start_ms < T0 + 6 * HOUR))
    assert_exact(store)


def test_a_count_of_one_shape_answers_each_scope_and_range_of_its_own(
    store: EventStore, make_event: MakeEvent
) -> None:
    """Counts reuse the statement built for a query's shape with other times: a scope of the
    same tenants but other cameras or kinds (an AccessScope equals a plain set of its tenants)
    and another range must each get their own answer, never the one asked before."""
    store.upsert_events(random_events(make_event, 400, seed=3))
    cameras = ["cam-a", "cam-b"]
    scopes: list[Collection[str]] = [
        AccessScope(["default"], cameras=["cam-a"]),
        AccessScope(["default"], cameras=["cam-b"]),
        frozenset({"default"}),
    ]
    answers = []
    for start, end in ((T0 + 1_000, T0 + 9 * HOUR + 5), (T0 + 3 * HOUR, T0 + 20 * HOUR + 17)):
        for scope in scopes:
            q = CountQuery(start_ms=start, end_ms=end, interval_s=3600, tenants=scope,
                           camera_ids=cameras)
            answers.append(answered(store, q))
            assert answers[-1] == expected(store, q), q
        live_only = AccessScope(["default"], kinds=["live"])  # may not read statistics
        q = CountQuery(start_ms=start, end_ms=end, interval_s=3600, tenants=live_only,
                       camera_ids=cameras)
        assert store.counts(q) == []
    assert all(answers) and len({frozenset(a.items()) for a in answers}) == len(answers)


def test_an_upgrade_fills_the_rollups_from_the_events_already_stored(
    store: EventStore, make_event: MakeEvent
) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0014_console_alerting")
    store.upsert_events(random_events(make_event, 400, seed=3))  # no rollups, no triggers yet
    store.migrate()
    assert_exact(store)
    store.upsert_events(random_events(make_event, 100, seed=4))  # triggers in force after it
    assert_exact(store)
