"""PostgreSQL for real: the embedded cluster, the day-partitioned events table, partition
retention, binary COPY ingest that stays idempotent, and a server restart under load."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from tests.services.fixtures import reset_postgres
from tests.store.conftest import BASE_MS, build_event
from vigil.bus import MemoryBus
from vigil.config import StoreConfig
from vigil.domain.events import EventMessage, EventState, Phase, uuid7
from vigil.services.postgres import PostgresServer
from vigil.store import EventStore
from vigil.store import postgres as pg
from vigil.store.db import MIGRATIONS
from vigil.store.query import CountQuery
from vigil.store.sink import EventSink

DAY = pg.DAY_MS


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[EventStore]:
    store = EventStore(reset_postgres(postgres_url))
    store.migrate()
    yield store
    store.close()


def count(store: EventStore, where: str = "TRUE") -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM events WHERE {where}"))
                   .scalar_one())


def test_events_are_partitioned_by_day(pg_store: EventStore) -> None:
    with pg_store.engine.connect() as connection:
        kind = connection.execute(sa.text("SELECT relkind FROM pg_class WHERE relname='events'"))
        assert kind.scalar_one() == "p"
    pg_store.upsert_events([build_event(start_ms=BASE_MS + d * DAY) for d in range(3)])
    names = pg.list_partitions(pg_store.engine)
    assert len(names) == 3 and names == sorted(names)
    assert names[0] == pg.partition_name(BASE_MS // DAY)
    pg_store.migrate()  # idempotent
    assert count(pg_store) == 3


def test_existing_rows_move_into_partitions(postgres_url: str) -> None:
    url = reset_postgres(postgres_url)
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:  # the schema as migrations alone leave it
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    store = EventStore(url)
    with engine.begin() as connection:
        from vigil.store.events import to_row
        from vigil.store.schema import events

        connection.execute(sa.insert(events), [to_row(build_event(start_ms=BASE_MS + d * DAY))
                                               for d in range(2)])
    engine.dispose()
    store.migrate()
    assert len(pg.list_partitions(store.engine)) == 2 and count(store) == 2
    store.close()


def test_copy_ingest_is_idempotent_and_keeps_the_newest_state(pg_store: EventStore) -> None:
    n = pg.COPY_MIN_ROWS * 2
    active = [build_event(start_ms=BASE_MS + i, state=EventState.ACTIVE, attributes={"i": i})
              for i in range(n)]
    assert pg_store.upsert_events(active) == n
    assert pg_store.upsert_events(active) == n  # redelivered: nothing duplicated
    ended = [e.model_copy(update={"state": EventState.ENDED, "updated_ms": e.updated_ms + 5})
             for e in active]
    pg_store.upsert_events(ended)
    pg_store.upsert_events(active)  # a late, older message never overwrites the end
    assert count(pg_store) == n
    assert count(pg_store, "state = 'ended'") == n
    got = pg_store.get_event(active[7].id)
    assert got is not None and got.attributes == {"i": 7} and got.object == active[7].object


def test_retention_drops_old_partitions_but_keeps_evidence(pg_store: EventStore) -> None:
    now = BASE_MS + 10 * DAY
    events = [build_event(start_ms=now - d * DAY) for d in range(6)]
    pg_store.upsert_events(events)
    locked_id = events[5].id
    locked = sa.select(sa.literal_column(f"'{locked_id}'"))
    dropped = pg.drop_partitions_older_than(pg_store.engine, 2, now_ms=now, locked=locked)
    assert dropped == sorted(pg.partition_name((now - d * DAY) // DAY) for d in (3, 4))
    assert count(pg_store) == 4
    assert pg_store.get_event(locked_id) is not None
    # Dropping a partition fires no trigger: its day's hourly counts went with it.
    assert total_counted(pg_store, now) == 4
    # A late event for a dropped day recreates its partition.
    pg_store.upsert_events([build_event(start_ms=now - 4 * DAY)])
    assert count(pg_store) == 5
    assert total_counted(pg_store, now) == 5


def total_counted(store: EventStore, now: int) -> int:
    """Line crossings counted over the last week in daily buckets (whole hours: rollups)."""
    q = CountQuery(start_ms=now - 7 * DAY, end_ms=now + DAY, interval_s=86_400)
    return sum(row.count for row in store.counts(q))


def test_sink_survives_a_postgres_restart_under_load() -> None:
    directory = Path(tempfile.mkdtemp(prefix="vigil-test-pg-restart-"))
    server = PostgresServer(directory, durable=True).start()
    store = EventStore(server.create_database("restart", extensions=()))
    store.migrate()
    bus = MemoryBus()
    sink = EventSink(store, bus, StoreConfig(batch_size=200, flush_ms=20), retry_max_s=0.5)
    sink.start()
    ids: list[str] = []

    def publish() -> None:
        for i in range(6000):
            event = build_event(start_ms=BASE_MS + i, event_id=uuid7(BASE_MS + i))
            ids.append(event.id)
            bus.publish(EventMessage(phase=Phase.END, event=event))
            if i % 200 == 0:
                time.sleep(0.01)

    try:
        publisher = threading.Thread(target=publish)
        publisher.start()
        time.sleep(0.3)
        server.kill()  # a crash, under load
        time.sleep(1.0)
        server.start()
        publisher.join()
        assert sink.stop(timeout=60)
        assert sink.stats.errors > 0  # it did see the outage
        assert count(store) == len(ids) == 6000
    finally:
        store.close()
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
