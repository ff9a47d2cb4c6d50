"""`vigil bench ingest`: events through bus → store sink → PostgreSQL, against raw binary COPY of
the same rows in the same run.

What counts as an event: one stored event, that is one row of the `events` table. The pipeline
publishes an event that lasts (a presence in a zone, loitering, a stopped vehicle) at least
twice — a start (state active) and an end (state ended) — and an instantaneous one (a line
crossing) once. The benchmark publishes every event as one that lasts, the heavier case: the
full path carries two bus messages per event and writes its row twice (an insert, then the
update that ends it). The end of an event is published `lag` events
after its start, so the two never meet in one sink batch (they would be collapsed into one
write); `lag` 0 publishes each end right after its start instead.

* full path: a publisher (its own process, as engines are) publishes the messages with
  `NatsBus.publish_many`; an `EventSink` on a second `NatsBus` writes them to PostgreSQL and
  acknowledges them once committed. Timed from the first publish to the last commit.
* raw COPY: the final rows of the same events, converted (`copy_row`) and written with binary
  COPY straight into an empty `events` table of the same schema, committed every `batch` rows.
  Measured before and after the full path; the faster of the two is the baseline (neighbours on
  a shared machine slow one phase or the other; the faster baseline is the harder one to keep
  up with).

During the full path the CPU time of each part is measured too (µs per event): the publisher,
this process (the sink and its NATS client), and the PostgreSQL and NATS servers when they are
the throwaway ones: where the time goes, on a machine whose cores they all share.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import multiprocessing
import os
import platform
import queue
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from vigil.bench.cpu_use import tree_cpu_s
from vigil.bench.synthetic import generated_cameras, synthetic_events
from vigil.config import StoreConfig
from vigil.domain.event_rows import copy_row
from vigil.domain.events import Event, EventMessage, EventState, Phase
from vigil.store.media import media_key

Progress = Callable[[str, int, int], None]
PUBLISH_CHUNK = 5_000  # messages per publish_many call: a producer's batch


@dataclass(frozen=True, slots=True)
class IngestSettings:
    events: int = 300_000
    cameras: int = 200
    lag: int = 20_000
    batch: int = 5_000
    seed: int = 7
    end_ms: int = 0  # the newest event's end; the publisher process rebuilds the same events


def make_events(settings: IngestSettings) -> list[Event]:
    """The final (ended) state of each synthetic event, oldest first: two tenants, `cameras`
    cameras, twelve kinds of events, people, vehicles and bags, each with a snapshot key."""
    # Recent events (one day up to now) land in the day partitions a live system writes to.
    events = []
    for event in synthetic_events(
        settings.events,
        seed=settings.seed,
        end_ms=settings.end_ms,
        days=1,
        cameras=generated_cameras(settings.cameras),
    ):
        event.snapshot = media_key(event.tenant, event.camera_id, event.start_ms, event.id)
        events.append(event)
    return events


def started(event: Event) -> Event:
    """`event` as its start message carries it."""
    return event.model_copy(
        update={
            "state": EventState.ACTIVE,
            "end_ms": None,
            "updated_ms": event.start_ms,
            "dwell_s": 0.0 if event.dwell_s is not None else None,
        }
    )


def messages(events: list[Event], lag: int) -> Iterator[EventMessage]:
    """Each event's start, and its end `lag` starts later."""
    for i in range(len(events) + lag):
        if i < len(events):
            yield EventMessage(phase=Phase.START, event=started(events[i]))
        if i >= lag:
            yield EventMessage(phase=Phase.END, event=events[i - lag])


# -- services ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Servers:
    nats_url: str
    postgres_url: str
    pids: dict[str, int]  # name → process id, of the throwaway servers (CPU accounting)


@contextlib.contextmanager
def services(nats_url: str | None, postgres_url: str | None) -> Iterator[Servers]:
    """The NATS and PostgreSQL servers given, or throwaway ones on loopback."""
    directory = Path(tempfile.mkdtemp(prefix="vigil-bench-ingest-"))
    os.chmod(directory, 0o755)  # PostgreSQL runs as its own user when we are root
    stack = contextlib.ExitStack()
    pids: dict[str, int] = {}
    try:
        if nats_url is None:
            from vigil.services.nats import NatsServer

            nats = stack.enter_context(NatsServer(directory / "nats", max_memory="64MB"))
            nats_url = nats.url
            assert nats.process is not None
            pids["nats-server"] = nats.process.pid
        if postgres_url is None:
            from vigil.services.postgres import PostgresServer

            server = stack.enter_context(PostgresServer(directory / "postgres"))
            postgres_url = server.create_database("vigil_bench_ingest", extensions=())
            assert server.process is not None
            pids["postgresql"] = server.process.pid
        yield Servers(nats_url, postgres_url, pids)
    finally:
        stack.close()
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def scratch_schema(postgres_url: str, name: str) -> Iterator[str]:
    """A URL whose connections work in a new, empty schema `name`, dropped afterwards (so an
    existing database can be given with --postgres)."""
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            connection.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        url = sa.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={name}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with contextlib.suppress(Exception), engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        engine.dispose()


def _store(url: str) -> Any:
    from vigil.store import EventStore

    store = EventStore(url)
    store.migrate()
    return store


def _stored_bytes(store: Any) -> int:
    """Bytes the `events` table takes on disk: every day partition with its indexes and TOAST."""
    with store.engine.connect() as connection:
        return int(
            connection.execute(
                sa.text(
                    "SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits "
                    "WHERE inhparent = to_regclass('events')"
                )
            ).scalar_one()
        )


def _count(store: Any) -> tuple[int, int]:
    with store.engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT count(*), count(*) FILTER (WHERE state = 'ended') FROM events")
        ).one()
    return int(row[0]), int(row[1])


# -- raw COPY ------------------------------------------------------------------------------


def raw_copy(
    url: str, events: list[Event], batch: int, progress: Progress, label: str = "raw COPY"
) -> tuple[float, int]:
    """Seconds to write the final rows of `events` with binary COPY, committed every `batch`,
    and the bytes the table then takes."""
    from vigil.store import postgres

    store = _store(url)
    try:
        postgres.ensure_partitions(store.engine, (event.start_ms for event in events))
        connection = store.engine.raw_connection()
        try:
            raw = connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor:
                types = postgres._copy_types(cursor)
            raw.commit()
            began = time.perf_counter()
            for start in range(0, len(events), batch):
                rows = [copy_row(event) for event in events[start : start + batch]]
                with raw.cursor() as cursor:
                    postgres.copy_rows(cursor, "events", rows, types)
                raw.commit()
                progress(label, min(start + batch, len(events)), len(events))
            seconds = time.perf_counter() - began
        finally:
            connection.close()
        if _count(store) != (len(events), len(events)):
            raise RuntimeError(f"raw COPY stored {_count(store)} rows, not {len(events)}")
        return seconds, _stored_bytes(store)
    finally:
        store.close()


# -- full path -----------------------------------------------------------------------------


def _publisher(
    nats_url: str, prefix: str, settings: IngestSettings, ready: Any, go: Any, result: Any
) -> None:
    """The producer process: builds the same events (same seed), waits for `go`, publishes."""
    from vigil.bus.nats import NatsBus

    events = make_events(settings)
    outgoing = list(messages(events, settings.lag))
    del events
    gc.freeze()  # the data set is not garbage: keep the collector from rescanning it
    bus = NatsBus(nats_url, prefix=prefix)
    try:
        ready.set()
        go.wait()
        began, cpu = time.monotonic(), time.process_time()
        published = 0
        for start in range(0, len(outgoing), PUBLISH_CHUNK):
            published += bus.publish_many(outgoing[start : start + PUBLISH_CHUNK])
            result.put(("progress", published))
        result.put(("done", began, time.monotonic(), published, time.process_time() - cpu))
    except BaseException as error:
        result.put(("error", repr(error)))
        raise
    finally:
        bus.close()


def full_path(
    nats_url: str,
    url: str,
    settings: IngestSettings,
    progress: Progress,
    server_pids: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Publish every message and wait until the sink committed the last; returns timings, and
    the CPU seconds of each part (the servers' of `server_pids`)."""
    from vigil.bus.nats import NatsBus
    from vigil.store.sink import EventSink

    total = 2 * settings.events
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    store = _store(url)
    context = multiprocessing.get_context("spawn")
    ready, go, result = context.Event(), context.Event(), context.Queue()
    producer = context.Process(
        target=_publisher,
        name="vigil-bench-publisher",
        args=(nats_url, prefix, settings, ready, go, result),
    )
    producer.start()
    bus = NatsBus(nats_url, prefix=prefix)
    sink = EventSink(store, bus, StoreConfig(batch_size=settings.batch, flush_ms=100))
    try:
        sink.start()
        while not ready.wait(0.5):
            if not producer.is_alive():
                raise RuntimeError("the publisher process failed to start")
        servers_cpu = {name: tree_cpu_s([pid]) for name, pid in (server_pids or {}).items()}
        own_cpu = time.process_time()
        go.set()
        publish: tuple[Any, ...] | None = None
        while publish is None or sink.stats.messages < total:
            try:
                item = result.get(timeout=0.1)
            except queue.Empty:
                if not producer.is_alive() and publish is None:
                    raise RuntimeError("the publisher process died") from None
            else:
                if item[0] == "progress":
                    progress("publish", item[1], total)
                elif item[0] == "done":
                    publish = item
                else:
                    raise RuntimeError(f"the publisher failed: {item[1]}")
            progress("sink: messages received", sink.stats.messages, total)
        # Everything is received; stop() writes what is left and returns after its commit.
        if not sink.stop(timeout=600):
            raise RuntimeError("the sink did not finish writing")
        finished = time.monotonic()
        cpu = {"publisher": publish[4], "sink process": time.process_time() - own_cpu}
        cpu.update(
            {
                name: tree_cpu_s([(server_pids or {})[name]]) - before
                for name, before in servers_cpu.items()
            }
        )
        rows, ended = _count(store)
        if (rows, ended) != (settings.events, settings.events):
            raise RuntimeError(
                f"the full path stored {rows} rows ({ended} ended), not {settings.events}"
            )
        began, published_at = publish[1], publish[2]
        stats = sink.stats
        return {
            "publish_s": published_at - began,
            "end_to_end_s": finished - began,
            "sink_batches": stats.batches,
            "sink_errors": stats.errors,
            "cpu_s": cpu,
            "stored_bytes": _stored_bytes(store),
        }
    finally:
        sink.stop(timeout=60)
        producer.join(30)
        if producer.is_alive():
            producer.kill()
        with contextlib.suppress(Exception):
            for stream, _ in bus.streams():
                bus.call(bus.js.delete_stream(stream), timeout=10)
        bus.close()
        store.close()


def run_ingest(
    settings: IngestSettings, nats_url: str | None, postgres_url: str | None, progress: Progress
) -> dict[str, Any]:
    if not settings.end_ms:
        settings = dataclasses.replace(settings, end_ms=time.time_ns() // 1_000_000)
    events = make_events(settings)
    gc.freeze()
    with services(nats_url, postgres_url) as servers:
        postgres = servers.postgres_url
        with scratch_schema(postgres, "vigil_bench_copy") as copy_url:
            first_s, copy_bytes = raw_copy(copy_url, events, settings.batch, progress)
        with scratch_schema(postgres, "vigil_bench_path") as path_url:
            path = full_path(servers.nats_url, path_url, settings, progress, servers.pids)
        with scratch_schema(postgres, "vigil_bench_copy") as copy_url:
            again_s, _ = raw_copy(copy_url, events, settings.batch, progress, "raw COPY, again")
        copy_s = [first_s, again_s]
    n = settings.events
    end_to_end = n / path["end_to_end_s"]
    raw = n / min(copy_s)
    return {
        "events": n,
        "messages": 2 * n,
        "cameras": settings.cameras,
        "lag": settings.lag,
        "batch": settings.batch,
        "publish_events_per_s": round(n / path["publish_s"]),
        "end_to_end_events_per_s": round(end_to_end),
        "end_to_end_events_per_min": round(end_to_end * 60),
        "raw_copy_events_per_s": round(raw),
        "raw_copy_runs_events_per_s": [round(n / seconds) for seconds in copy_s],
        "ratio": round(end_to_end / raw, 3),
        # Where the full path's time went: CPU µs per event of each part (2 cores = 2 s of CPU
        # per second of wall time, shared by all of them).
        "cpu_us_per_event": {
            name: round(seconds / n * 1e6, 1) for name, seconds in path["cpu_s"].items()
        },
        # On disk right after ingest, indexes included: the full path's rows were written twice
        # (start, then end), so its pages hold what the updates left behind until vacuum.
        "stored_bytes_per_event": {
            "full path": round(path["stored_bytes"] / n),
            "raw COPY": round(copy_bytes / n),
        },
        "sink_batches": path["sink_batches"],
        "sink_errors": path["sink_errors"],
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f} at the end",
    }
