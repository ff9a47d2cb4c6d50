"""The event store against a real SQLite file: schema, upserts, queries, pagination, counts."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Collection
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from vigil.auth.scope import AccessScope
from vigil.domain.events import Event, EventState, uuid7
from vigil.store import CountQuery, CountRow, EventQuery, EventStore, QueryError
from vigil.store.events import count as count_events
from vigil.store.schema import metadata

BASE_MS = 1_795_000_000_000
MakeEvent = Callable[..., Event]


def row_count(store: EventStore) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM events")).scalar_one())


def test_migration_creates_exactly_the_declared_schema(store: EventStore) -> None:
    store.migrate()  # a second run at the next start changes nothing
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
        indexes = {index["name"] for index in sa.inspect(connection).get_indexes("events")}
    assert {
        "ix_events_tenant_start_ms", "ix_events_camera_id_start_ms", "ix_events_type",
        "ix_events_class_name",
    } <= indexes


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(db_path: Path) -> None:
    store = EventStore(f"sqlite:///{db_path}")
    with store.engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys")
        }
    assert pragma == {"journal_mode": "wal", "busy_timeout": 5000, "foreign_keys": 1}
    assert db_path.exists()  # its directory was created
    store.close()


def test_round_trip_keeps_every_field(store: EventStore, make_event: MakeEvent) -> None:
    event = make_event(
        module="zone", type="zone.presence", state=EventState.ACTIVE, line=None, direction=None,
        zone="sidewalk", dwell_s=12.5, snapshot="default/cam-a/2026-11-17/x.jpg",
        attributes={"speed_kmh": 4.2, "tags": ["a", "b"]},
    )
    assert store.upsert_events([event]) == 1
    assert store.get_event(event.id) == event
    assert store.get_event(uuid7()) is None


def test_scene_event_without_object_round_trips(store: EventStore, make_event: MakeEvent) -> None:
    event = make_event(module="tamper", type="tamper.covered", line=None, direction=None)
    event = event.model_copy(update={"object": None})
    store.upsert_events([event])
    assert store.get_event(event.id) == event


def test_a_page_rendered_by_the_database_is_the_events_json(
    store: EventStore, make_event: MakeEvent
) -> None:
    """The API answers event pages with JSON the database renders, without a model per event:
    it must parse to exactly what the events serialise to, whatever the event holds. Detectors
    give float32 scores (0.87 arrives as 0.8700000047683716), which 15 printed digits change."""
    full = make_event(
        module="zone", type="zone.presence", state=EventState.ACTIVE, line=None, direction=None,
        zone='dock "B" \\ east', dwell_s=0.1 + 0.2, snapshot="default/cam-a/2026-11-17/x.jpg",
        attributes={"speed_kmh": 4.2, "tags": ["a", "b"], "name": "Gare du Nord é\n\t\u0001"},
    )
    assert full.object is not None
    full = full.model_copy(update={"object": full.object.model_copy(update={
        "score": float(np.float32(0.87)), "box": (0.1, 1e-7, 1919.9999999999998, 1080.0),
    })})
    scene = make_event(start_ms=full.start_ms + 1, module="tamper", type="tamper.covered")
    scene = scene.model_copy(update={"object": None, "line": None, "direction": None})
    bare = make_event(start_ms=full.start_ms + 2, dwell_s=123456.78901234567)
    assert bare.object is not None
    bare = bare.model_copy(update={"object": bare.object.model_copy(update={
        "box": None, "track_id": None, "score": float(np.float32(0.3333333)),
    })})
    store.upsert_events([full, scene, bare])
    query = EventQuery(limit=2)
    page, events = store.query_event_json(query), store.query_events(query)
    assert json.loads(page.items_json) == [event.model_dump(mode="json") for event in events.items]
    assert json.loads(page.items_json) == [e.model_dump(mode="json") for e in (bare, scene)]
    assert page.next_cursor == events.next_cursor is not None
    rest = store.query_event_json(EventQuery(limit=2, cursor=page.next_cursor))
    assert json.loads(rest.items_json) == [full.model_dump(mode="json")]
    assert rest.next_cursor is None
    assert store.query_event_json(EventQuery(camera_ids=["elsewhere"])).items_json == "[]"


def test_upsert_is_idempotent_by_id(store: EventStore, make_event: MakeEvent) -> None:
    event = make_event()
    store.upsert_events([event])
    store.upsert_events([event])
    store.upsert_events([event, event])
    assert row_count(store) == 1
    assert store.get_event(event.id) == event


def test_later_update_wins_and_earlier_is_ignored(store: EventStore, make_event: MakeEvent) -> None:
    first = make_event(state=EventState.ACTIVE, type="zone.presence", zone="z", line=None,
                       direction=None, dwell_s=1.0)
    later = first.model_copy(update={"dwell_s": 6.0, "updated_ms": first.updated_ms + 5000})
    store.upsert_events([first])
    store.upsert_events([later])
    store.upsert_events([first])  # a replayed, older message
    stored = store.get_event(first.id)
    assert stored is not None and stored.dwell_s == 6.0


def test_ended_event_never_regresses_to_active(store: EventStore, make_event: MakeEvent) -> None:
    active = make_event(state=EventState.ACTIVE)
    ended = active.model_copy(
        update={"state": EventState.ENDED, "end_ms": active.start_ms + 900,
                "updated_ms": active.start_ms + 900}
    )
    late_active = active.model_copy(update={"updated_ms": active.start_ms + 5000})
    store.upsert_events([ended])
    store.upsert_events([late_active])
    store.upsert_events([active])
    stored = store.get_event(active.id)
    assert stored is not None and stored.state is EventState.ENDED and stored.end_ms == ended.end_ms
    # Within one batch the same rule applies, whatever the order.
    other = make_event(state=EventState.ACTIVE, start_ms=BASE_MS + 1)
    other_ended = other.model_copy(update={"state": EventState.ENDED})
    store.upsert_events([other_ended, other.model_copy(update={"updated_ms": BASE_MS + 99})])
    stored = store.get_event(other.id)
    assert stored is not None and stored.state is EventState.ENDED


def test_active_event_is_ended_even_by_an_end_with_an_older_clock(
    store: EventStore, make_event: MakeEvent
) -> None:
    active = make_event(state=EventState.ACTIVE, updated_ms=BASE_MS + 500)
    ended = active.model_copy(update={"state": EventState.ENDED, "updated_ms": BASE_MS + 400})
    store.upsert_events([active])
    store.upsert_events([ended])
    stored = store.get_event(active.id)
    assert stored is not None and stored.state is EventState.ENDED


def test_keyset_pagination_returns_every_row_once_newest_first(
    store: EventStore, make_event: MakeEvent
) -> None:
    # Many events share a start time, so the id must break ties for the cursor to be exact.
    events = [
        make_event(start_ms=BASE_MS + (i // 4) * 1000, camera_id=f"cam-{i % 3}") for i in range(237)
    ]
    store.upsert_events(events)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = store.query_events(EventQuery(limit=10, cursor=cursor))
        seen += [event.id for event in page.items]
        pages += 1
        if pages == 2:  # events arriving while paging must not shift the pages
            store.upsert_events([make_event(start_ms=BASE_MS + 10**7)])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    expected = sorted(events, key=lambda e: (e.start_ms, e.id), reverse=True)
    assert seen == [event.id for event in expected]
    assert pages == 24


def test_filters(store: EventStore, make_event: MakeEvent) -> None:
    line_a = make_event(start_ms=BASE_MS, camera_id="cam-a", class_name="person")
    line_b = make_event(start_ms=BASE_MS + 1000, camera_id="cam-b", class_name="car",
                        line="gate", direction="out")
    zone_a = make_event(start_ms=BASE_MS + 2000, camera_id="cam-a", module="zone",
                        type="zone.presence", line=None, direction=None, zone="lot",
                        state=EventState.ACTIVE)
    other_tenant = make_event(start_ms=BASE_MS + 3000, tenant="harbour", camera_id="cam-h")
    store.upsert_events([line_a, line_b, zone_a, other_tenant])

    def ids(**filters: object) -> set[str]:
        return {e.id for e in store.query_events(EventQuery(**filters)).items}  # type: ignore[arg-type]

    assert ids() == {line_a.id, line_b.id, zone_a.id, other_tenant.id}
    assert ids(start_ms=BASE_MS + 1000, end_ms=BASE_MS + 3000) == {line_b.id, zone_a.id}
    assert ids(end_ms=BASE_MS + 1000) == {line_a.id}
    assert ids(camera_ids=["cam-a"]) == {line_a.id, zone_a.id}
    assert ids(camera_ids=["cam-a", "cam-b"], class_names=["car"]) == {line_b.id}
    assert ids(module="zone") == {zone_a.id}
    assert ids(type="line.crossing", line="gate") == {line_b.id}
    assert ids(zone="lot") == {zone_a.id}
    assert ids(state=EventState.ACTIVE) == {zone_a.id}
    assert ids(tenants=["harbour"]) == {other_tenant.id}
    assert ids(tenants=[]) == set()
    assert store.get_event(other_tenant.id, tenants=["default"]) is None
    assert store.get_event(other_tenant.id, tenants=["harbour"]) == other_tenant


def test_pages_of_one_shape_answer_each_scope_filter_and_cursor_of_their_own(
    store: EventStore, make_event: MakeEvent
) -> None:
    """Event pages reuse the statement built for a query's shape with other values: a scope of
    the same tenants but other cameras or kinds (an AccessScope equals a plain set of its
    tenants), another filter value and another cursor must each get their own page, rows and
    JSON alike, never the one asked before."""
    events = [
        make_event(start_ms=BASE_MS + (i // 3) * 1000, camera_id=f"cam-{'abc'[i % 3]}",
                   class_name=("person", "car")[i % 2], tenant="default" if i % 5 else "harbour")
        for i in range(90)
    ]
    store.upsert_events(events)
    scopes: list[tuple[Collection[str], set[str] | None]] = [
        (AccessScope(["default"], cameras=["cam-a"]), {"cam-a"}),
        (AccessScope(["default"], cameras=["cam-b", "cam-c"]), {"cam-b", "cam-c"}),
        (frozenset({"default"}), None),
        (AccessScope(["default"], kinds=["live"]), set()),  # may not read events
    ]
    longest = 0
    for scope, cameras in scopes:
        for class_name in ("person", "car"):
            expected = [
                event.id
                for event in sorted(events, key=lambda e: (e.start_ms, e.id), reverse=True)
                if event.tenant == "default" and event.object is not None
                and event.object.class_name == class_name
                and (cameras is None or event.camera_id in cameras)
            ]
            rows: list[str] = []
            rendered: list[str] = []
            cursor = None
            while True:  # pages of 4 from a cursor each, as rows and as JSON
                q = EventQuery(tenants=scope, class_names=[class_name], limit=4, cursor=cursor)
                page = store.query_events(q)
                rows += [event.id for event in page.items]
                json_page = store.query_event_json(q)
                rendered += [item["id"] for item in json.loads(json_page.items_json)]
                assert json_page.next_cursor == page.next_cursor
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            assert rows == rendered == expected, (scope, class_name)
            whole = EventQuery(tenants=scope, class_names=[class_name])
            assert count_events(store.engine, whole) == len(expected)
            longest = max(longest, len(expected))
    assert longest > 3 * 4  # some scopes took several pages


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"cursor": "not a cursor"}, "cursor"),
        ({"cursor": "MTIzLi4vLi4vZXRj"}, "cursor"),  # base64 of "123../../etc"
        ({"cursor": "x" * 500}, "cursor"),
        ({"start_ms": 2000, "end_ms": 1000}, "start"),
    ],
)
def test_invalid_queries_name_the_parameter(kwargs: dict[str, object], param: str) -> None:
    with pytest.raises(QueryError) as raised:
        EventQuery(**kwargs)  # type: ignore[arg-type]
    assert raised.value.param == param


def test_counts_bucket_line_crossings_and_zone_entries(
    store: EventStore, make_event: MakeEvent
) -> None:
    hour = 3_600_000
    t0 = (BASE_MS // hour) * hour  # a whole UTC hour
    events = [
        # bucket 0: 2 persons in, 1 person out, 1 car in on "door"; a visit to "lot"
        make_event(start_ms=t0 + 1),
        make_event(start_ms=t0 + 59_999),
        make_event(start_ms=t0 + 30_000, direction="out"),
        make_event(start_ms=t0 + 10, class_name="car", class_id=2),
        make_event(start_ms=t0 + 5, module="zone", type="zone.presence", line=None,
                   direction=None, zone="lot", state=EventState.ACTIVE),
        # bucket 1: one person in
        make_event(start_ms=t0 + 60_000),
        # not counted: another type, another tenant's camera is kept (no scope), outside range
        make_event(start_ms=t0 + 20, module="loitering", type="loitering", line=None,
                   direction=None, zone="lot"),
        make_event(start_ms=t0 + 3 * 60_000),
    ]
    store.upsert_events(events)
    rows = store.counts(CountQuery(start_ms=t0, end_ms=t0 + 2 * 60_000, interval_s=60))
    assert rows == [
        CountRow(t0, "cam-a", None, "lot", "person", None, 1),
        CountRow(t0, "cam-a", "door", None, "car", "in", 1),
        CountRow(t0, "cam-a", "door", None, "person", "in", 2),
        CountRow(t0, "cam-a", "door", None, "person", "out", 1),
        CountRow(t0 + 60_000, "cam-a", "door", None, "person", "in", 1),
    ]
    hourly = store.counts(CountQuery(start_ms=t0, end_ms=t0 + hour, interval_s=3600))
    assert {(r.line, r.zone, r.class_name, r.direction): r.count for r in hourly} == {
        (None, "lot", "person", None): 1,
        ("door", None, "car", "in"): 1,
        ("door", None, "person", "in"): 4,
        ("door", None, "person", "out"): 1,
    }
    only_zone = store.counts(CountQuery(start_ms=t0, end_ms=t0 + hour, zones=["lot"]))
    assert [(r.zone, r.count) for r in only_zone] == [("lot", 1)]
    only_cars = store.counts(CountQuery(start_ms=t0, end_ms=t0 + hour, class_names=["car"]))
    assert [r.count for r in only_cars] == [1]
    assert store.counts(CountQuery(start_ms=t0, end_ms=t0 + hour, tenants=["other"])) == []
    assert store.counts(CountQuery(start_ms=t0, end_ms=t0 + hour, camera_ids=["nope"])) == []


def test_count_query_limits() -> None:
    with pytest.raises(QueryError, match="interval"):
        CountQuery(start_ms=0, end_ms=1000, interval_s=0)
    with pytest.raises(QueryError, match="buckets"):
        CountQuery(start_ms=0, end_ms=10**12, interval_s=1)


def test_a_batch_of_ten_thousand_events_is_stored_in_one_call(
    store: EventStore, make_event: MakeEvent
) -> None:
    # How fast is `vigil bench ingest`'s question (docs/benchmarks.md), not a test's.
    events = [make_event(start_ms=BASE_MS + i, attributes={"n": i}) for i in range(10_000)]
    assert store.upsert_events(events) == 10_000
    assert row_count(store) == 10_000


def test_a_locked_database_waits_for_the_busy_timeout(db_path: Path, make_event: MakeEvent) -> None:
    store = EventStore(f"sqlite:///{db_path}", busy_timeout_ms=400)
    store.migrate()
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    began = time.monotonic()
    with pytest.raises(sa.exc.OperationalError, match="locked"):
        store.upsert_events([make_event()])
    assert time.monotonic() - began >= 0.35
    blocker.execute("ROLLBACK")
    blocker.close()
    assert store.upsert_events([make_event()]) == 1
    store.close()


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="in-memory"):
        EventStore("sqlite://")


def test_nodes_starting_together_on_a_fresh_database_all_migrate(store_url: str) -> None:
    # A cluster's API node and workers all migrate at start, at the same moment.
    from concurrent.futures import ThreadPoolExecutor

    def start_node(_: int) -> list[str]:
        node = EventStore(store_url)
        try:
            node.migrate()
            return [table for table in sa.inspect(node.engine).get_table_names()]
        finally:
            node.close()

    with ThreadPoolExecutor(4) as pool:
        tables = list(pool.map(start_node, range(4)))
    assert all("events" in found and "alembic_version" in found for found in tables)
