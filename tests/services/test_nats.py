"""The bus on a real NATS JetStream server (and a 3-node cluster): the sink acknowledges only
after commit, redelivery duplicates nothing, a node loss loses no acknowledged event."""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.store.conftest import BASE_MS, build_event
from tests.waiting import wait_until
from vigil.bus import MemoryBus
from vigil.bus.nats import NatsBus
from vigil.bus.nats_codec import decode, message_id, pack, token
from vigil.bus.nats_errors import BusClosedError, PublishTimeoutError
from vigil.bus.nats_subscription import NatsSubscription
from vigil.config import StoreConfig
from vigil.domain.event_rows import COLUMNS, EventRow, copy_row
from vigil.domain.events import EventMessage, EventState, Phase
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


def stream_messages(bus: NatsBus) -> int:
    """JetStream messages in the events stream (a batch envelope counts once)."""
    info = bus.call(bus.js.stream_info(bus.streams()[0][0]), timeout=10)
    return int(info.state.messages)


def test_subjects_name_tenant_and_camera(nats_server: NatsServer, prefix: str) -> None:
    bus = NatsBus(nats_server.url, prefix=prefix)
    live = bus.subscribe("live", lossless=False, max_pending=10)
    try:
        bus.call(bus.nc.flush(), timeout=5)
        bus.publish_many(messages(20))  # 40 messages into a lossy queue of 10
        assert wait_until(lambda: live.pending == 10, 5)
        assert live.dropped == 30
        stream = bus.streams()[0][0]
        info = bus.call(bus.js.stream_info(stream, subjects_filter=">"), timeout=5)
        assert set(info.state.subjects or {}) == {f"{prefix}.events.default.cam_{i}"
                                                  for i in range(4)}
    finally:
        bus.close()


def test_batch_envelopes_carry_many_messages_each_seen_one_by_one(
    nats_server: NatsServer, prefix: str
) -> None:
    bus = NatsBus(nats_server.url, prefix=prefix)
    live = bus.subscribe("live", lossless=False, max_pending=10_000)
    rows = bus.subscribe_rows("sink")
    try:
        bus.call(bus.nc.flush(), timeout=5)
        published = messages(300)
        assert bus.publish_many(published) == 600
        single = messages(1)[0]
        bus.publish(single)
        assert stream_messages(bus) == 5  # four cameras' envelopes and the single message
        received = [live.get(timeout=5) for _ in range(601)]
        # Every subscriber but the sink gets validated EventMessages, in order per subject.
        by_camera = sorted(published, key=lambda m: m.event.camera_id)
        assert sorted(received[:600], key=lambda m: m.event.camera_id) == by_camera
        assert received[600] == single
        delivered = [rows.get(timeout=5) for _ in range(601)]
        enveloped = [d for d in delivered if isinstance(d, EventRow)]
        assert len(enveloped) == 600 and single in delivered
        assert {(d.phase, tuple(d.row)) for d in enveloped} == {
            (m.phase.value, copy_row(m.event)) for m in published}
        rows.ack(delivered)
        assert wait_until(lambda: consumer_state(bus, "sink") == (0, 0), 10)
    finally:
        bus.close()


def test_event_rows_from_another_version_are_mapped_by_column_name() -> None:
    message = messages(1)[1]
    message.event.snapshot = "default/cam.0/2026-11-27/x.jpg"
    [envelope] = pack([message], "vigil", 1 << 20)
    # A publisher that has no `snapshot` column and orders the others differently.
    older = [name for name in reversed(COLUMNS) if name != "snapshot"]
    values = dict(zip(COLUMNS, copy_row(message.event), strict=True))
    payload = {"columns": older, "phases": ["end"], "rows": [[values[c] for c in older]]}
    [row] = decode(envelope.subject, json.dumps(payload).encode(), envelope.headers, rows=True)
    assert isinstance(row, EventRow)
    assert row.row == tuple(None if c == "snapshot" else values[c] for c in COLUMNS)


def test_an_invalid_event_in_an_envelope_is_dropped_alone() -> None:
    published = messages(3, cameras=1)
    refused = published[2].event
    assert refused.object is not None
    refused.object = refused.object.model_copy(update={"score": 1.5})  # the schema says ≤ 1
    [envelope] = pack(published, "vigil", 1 << 20)
    as_rows = decode(envelope.subject, envelope.payload, envelope.headers, rows=True)
    assert [r.id for r in as_rows if isinstance(r, EventRow)] == [
        m.event.id for i, m in enumerate(published) if i != 2]
    as_messages = decode(envelope.subject, envelope.payload, envelope.headers)
    assert as_messages == [m for i, m in enumerate(published) if i != 2]


def test_sink_writes_then_acknowledges(nats_server: NatsServer, prefix: str,
                                       sqlite_store: EventStore) -> None:
    bus, committed = NatsBus(nats_server.url, prefix=prefix), MemoryBus()
    follower = committed.subscribe("live-view")
    sink = EventSink(sqlite_store, bus, StoreConfig(batch_size=100, flush_ms=20),
                     committed=committed)
    sink.start()
    try:
        published = messages(300)
        bus.publish_many(published)
        assert wait_until(lambda: rows(sqlite_store, "state = 'ended'") == 300, 20)
        assert wait_until(lambda: consumer_state(bus, "store-sink") == (0, 0), 10)
        assert rows(sqlite_store) == 300
        # The sink took rows off the bus; followers of the committed bus get whole messages.
        republished = [follower.get(timeout=5) for _ in published]
        assert None not in republished
        assert ({message_id(m): m for m in republished if m is not None}
                == {message_id(m): m for m in published})
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
        assert wait_until(lambda: rows(store, "state = 'ended'") == 400, 30)
        assert sink.stop(timeout=20)
        # All delivered, none acknowledged (JetStream counts envelopes, not the events in them).
        assert consumer_state(bus, "store-sink") == (0, stream_messages(bus))
    bus.close()
    # Its replacement gets every message again once the acknowledgement wait passes.
    bus = NatsBus(nats_server.url, prefix=prefix, ack_wait_s=1.0)
    sink = EventSink(store, bus, StoreConfig(batch_size=1000, flush_ms=50))
    sink.start()
    try:
        assert wait_until(lambda: consumer_state(bus, "store-sink") == (0, 0), 30)
        assert sink.stats.messages >= 800  # redelivered ...
        assert rows(store) == 400  # ... and nothing duplicated
        assert rows(store, "state = 'ended'") == 400
    finally:
        assert sink.stop(timeout=20)
        bus.close()
        store.close()


def test_losing_the_stream_leader_of_a_three_node_cluster_loses_no_acknowledged_event(
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
        failures: list[BaseException] = []

        def publish() -> None:
            # The bus itself rides through the leader election (bounded waits for
            # acknowledgements, retries with the same message ids): a caller never retries.
            try:
                for number, start in enumerate(range(0, len(published), 100)):
                    chunk = published[start:start + 100]
                    if number % 2:
                        for message in chunk:
                            bus.publish(message)  # the engine's way: one at a time
                    else:
                        bus.publish_many(chunk)  # batch envelopes
                    acknowledged.extend(chunk)
            except BaseException as error:
                failures.append(error)

        publisher = threading.Thread(target=publish)
        publisher.start()
        assert wait_until(lambda: len(acknowledged) >= 600 or not publisher.is_alive(), 60)
        stream = bus.streams()[0][0]
        cluster = bus.call(bus.js.stream_info(stream), timeout=10).cluster
        assert cluster is not None
        leader = cluster.leader
        victim = next(node for node in nodes if node.name == leader)
        victim.kill()  # SIGKILL the events stream's leader mid-publish, under load
        # A liveness bound, not a speed check: re-election plus republishing takes a few
        # seconds on an idle machine and minutes on a saturated one.
        publisher.join(300)
        assert not publisher.is_alive()
        assert not failures, failures
        ids = {message.event.id for message in acknowledged}
        assert len(ids) == 1500
        assert wait_until(lambda: rows(sqlite_store, "state = 'ended'") == len(ids), 60)
        assert rows(sqlite_store) == len(ids)  # exactly once: no duplicate rows
        # The sink's consumer survived the election: everything ends up acknowledged.
        assert wait_until(lambda: settled(sink_bus, "store-sink"), 60)
        assert sink.stop(timeout=30)
        sink_bus.close()
        bus.close()
    finally:
        for node in nodes:
            node.stop()


def settled(bus: NatsBus, durable: str) -> bool:
    try:
        return consumer_state(bus, durable) == (0, 0)
    except Exception:  # no consumer leader yet
        return False


def test_a_dead_cluster_fails_a_publish_with_a_clear_error(nats_dir: Path, prefix: str) -> None:
    with NatsServer(nats_dir / f"doomed-{prefix}") as server:
        bus = NatsBus(server.url, prefix=prefix, ack_timeout_s=0.5, publish_timeout_s=3)
        try:
            bus.publish_many(messages(5))
            server.kill()
            started = time.monotonic()
            with pytest.raises(PublishTimeoutError, match="did not acknowledge 10 message"):
                bus.publish_many(messages(5))
            with pytest.raises(PublishTimeoutError):
                bus.publish(messages(1)[0])
            assert time.monotonic() - started < 20
        finally:
            bus.close()


def test_a_closed_bus_says_so(nats_server: NatsServer, prefix: str) -> None:
    bus = NatsBus(nats_server.url, prefix=prefix)
    bus.close()
    with pytest.raises(BusClosedError, match="is closed"):
        bus.publish_many(messages(1))


def test_a_tenants_camera_id_is_one_subject_token_of_its_own(
    nats_server: NatsServer, prefix: str
) -> None:
    """'acme:gate' must not share a subject (live frames, RPC) or a lease key with a camera
    'acme_gate' of the default tenant: the ':' maps to a character no id contains."""
    assert token("acme:gate") == "acme=gate" != token("acme_gate")
    bus = NatsBus(nats_server.url, prefix=prefix)
    try:
        bucket = bus.call(bus.js.create_key_value(bucket=f"{prefix}_ids"), timeout=5)
        for camera in ("acme:gate", "acme_gate"):
            bus.call(bucket.create(token(camera), camera.encode()), timeout=5)
        held = {camera: bus.call(bucket.get(token(camera)), timeout=5).value
                for camera in ("acme:gate", "acme_gate")}
        assert held == {"acme:gate": b"acme:gate", "acme_gate": b"acme_gate"}
    finally:
        bus.close()
