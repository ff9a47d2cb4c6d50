"""The bus on a real NATS JetStream server (and a 3-node cluster): the sink acknowledges only
after commit, redelivery duplicates nothing, a node loss loses no acknowledged event."""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.store.conftest import BASE_MS, build_event
from vigil.bus.nats import NatsBus, NatsSubscription
from vigil.config import StoreConfig
from vigil.events import EventMessage, EventState, Phase
from vigil.services.nats import NatsServer, start_cluster
from vigil.store import EventStore
from vigil.store.sink import EventSink

_prefixes = itertools.count()


@pytest.fixture(scope="module")
def nats_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="vigil-test-nats-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def nats_server(nats_dir: Path) -> Iterator[NatsServer]:
    with NatsServer(nats_dir / "single") as server:
        yield server


@pytest.fixture
def prefix() -> str:
    return f"t{next(_prefixes)}"


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[EventStore]:
    store = EventStore(f"sqlite:///{tmp_path / 'vigil.db'}")
    store.migrate()
    yield store
    store.close()


def messages(n: int, *, cameras: int = 4) -> list[EventMessage]:
    """Each event twice: started, then ended (same id)."""
    out = []
    for i in range(n):
        start = build_event(start_ms=BASE_MS + i, camera_id=f"cam.{i % cameras}",
                            state=EventState.ACTIVE)
        out.append(EventMessage(phase=Phase.START, event=start))
        end = start.model_copy(update={"state": EventState.ENDED, "end_ms": start.start_ms + 5,
                                       "updated_ms": start.start_ms + 5})
        out.append(EventMessage(phase=Phase.END, event=end))
    return out


def rows(store: EventStore, where: str = "TRUE") -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM events WHERE {where}"))
                   .scalar_one())


def consumer_state(bus: NatsBus, durable: str) -> tuple[int, int]:
    """(messages not yet delivered, delivered but unacknowledged) on the events stream."""
    stream = bus.streams()[0][0]
    info = bus.call(bus.js.consumer_info(stream, durable), timeout=10)
    return info.num_pending, info.num_ack_pending


def wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.1)
    return False


def test_subjects_name_tenant_and_camera(nats_server: NatsServer, prefix: str) -> None:
    bus = NatsBus(nats_server.url, prefix=prefix)
    live = bus.subscribe("live", lossless=False, max_pending=10)
    try:
        bus.call(bus.nc.flush(), timeout=5)
        bus.publish_many(messages(20))  # 40 messages into a lossy queue of 10
        assert wait_for(lambda: live.pending == 10, 5)
        assert live.dropped == 30
        stream = bus.streams()[0][0]
        info = bus.call(bus.js.stream_info(stream, subjects_filter=">"), timeout=5)
        assert set(info.state.subjects or {}) == {f"{prefix}.events.default.cam_{i}"
                                                  for i in range(4)}
    finally:
        bus.close()


def test_sink_writes_then_acknowledges(nats_server: NatsServer, prefix: str,
                                       sqlite_store: EventStore) -> None:
    bus = NatsBus(nats_server.url, prefix=prefix)
    sink = EventSink(sqlite_store, bus, StoreConfig(batch_size=100, flush_ms=20))
    sink.start()
    try:
        bus.publish_many(messages(300))
        assert wait_for(lambda: rows(sqlite_store, "state = 'ended'") == 300, 20)
        assert wait_for(lambda: consumer_state(bus, "store-sink") == (0, 0), 10)
        assert rows(sqlite_store) == 300
    finally:
        assert sink.stop(timeout=20)
        bus.close()


def test_a_sink_killed_before_acknowledging_duplicates_nothing(
    nats_server: NatsServer, prefix: str, postgres_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.services.fixtures import reset_postgres

    store = EventStore(reset_postgres(postgres_url))
    store.migrate()
    published = messages(400)
    # First sink: commits every batch, then "dies" before acknowledging any of them.
    bus = NatsBus(nats_server.url, prefix=prefix, ack_wait_s=1.0)
    with monkeypatch.context() as patch:
        patch.setattr(NatsSubscription, "ack", lambda self, messages: None)
        sink = EventSink(store, bus, StoreConfig(batch_size=1000, flush_ms=50))
        sink.start()
        bus.publish_many(published)
        assert wait_for(lambda: rows(store, "state = 'ended'") == 400, 30)
        assert sink.stop(timeout=20)
        assert consumer_state(bus, "store-sink")[1] == 800  # all delivered, none acked
    bus.close()
    # Its replacement gets every message again once the acknowledgement wait passes.
    bus = NatsBus(nats_server.url, prefix=prefix, ack_wait_s=1.0)
    sink = EventSink(store, bus, StoreConfig(batch_size=1000, flush_ms=50))
    sink.start()
    try:
        assert wait_for(lambda: consumer_state(bus, "store-sink") == (0, 0), 30)
        assert sink.stats.messages >= 800  # redelivered ...
        assert rows(store) == 400  # ... and nothing duplicated
        assert rows(store, "state = 'ended'") == 400
    finally:
        assert sink.stop(timeout=20)
        bus.close()
        store.close()


@pytest.mark.skip(
    reason="known bug, issue 6: after the stream leader is killed, NatsBus.publish_many can "
    "wait forever for acknowledgements that never come (about 1 run in 3); the test stays "
    "here to be re-enabled with the fix"
)
def test_losing_a_node_of_a_three_node_cluster_loses_no_acknowledged_event(
    nats_dir: Path, prefix: str, sqlite_store: EventStore,
) -> None:
    nodes = start_cluster(nats_dir / f"cluster-{prefix}", size=3)
    try:
        urls = [node.url for node in nodes]
        bus = NatsBus(urls, prefix=prefix, replicas=3, connect_timeout_s=30)
        sink_bus = NatsBus(list(reversed(urls)), prefix=prefix, replicas=3)
        sink = EventSink(sqlite_store, sink_bus, StoreConfig(batch_size=200, flush_ms=20))
        sink.start()
        published = messages(1500)
        acknowledged: list[EventMessage] = []

        def publish() -> None:
            for start in range(0, len(published), 100):
                chunk = published[start:start + 100]
                give_up = time.monotonic() + 120
                while True:
                    try:
                        bus.publish_many(chunk)  # returns once JetStream acknowledged every one
                        break
                    except Exception:
                        # While the cluster elects a new stream leader a publish can fail; a
                        # producer retries, and message ids keep the retry from duplicating.
                        if time.monotonic() > give_up:
                            raise
                        time.sleep(0.5)
                acknowledged.extend(chunk)

        publisher = threading.Thread(target=publish)
        publisher.start()
        time.sleep(0.5)
        nodes[0].kill()  # SIGKILL one node (the first URL both clients try) under load
        # A liveness bound, not a speed check: re-election plus republishing takes a few
        # seconds on an idle machine and minutes on a saturated one.
        publisher.join(300)
        assert not publisher.is_alive()
        ids = {message.event.id for message in acknowledged}
        assert len(ids) == 1500
        assert wait_for(lambda: rows(sqlite_store, "state = 'ended'") == len(ids), 60)
        assert rows(sqlite_store) == len(ids)  # exactly once: no duplicate rows
        assert sink.stop(timeout=30)
        sink_bus.close()
        bus.close()
    finally:
        for node in nodes:
            node.stop()
