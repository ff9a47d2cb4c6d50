"""The coordinator of `vigil bench api`: seed the store once, build the node's search index
once, start the node, run the clients."""

from __future__ import annotations

import multiprocessing
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from vigil.auth.roles import Role
from vigil.auth.store import AuthStore
from vigil.bench.api.load import (
    KINDS,
    QUERIES,
    SEARCH_KINDS,
    Cameras,
    Sample,
    request_for,
    run_clients,
)
from vigil.bench.api.node import node_config
from vigil.bench.search import BASE_CAPTIONS, BenchEmbedder
from vigil.bench.synthetic import generated_cameras, synthetic_events
from vigil.domain.frames import now_ms
from vigil.search.embedding import MiniLM
from vigil.search.indexer import reindex
from vigil.search.results import Explicit
from vigil.search.service import SearchRequest, SearchService
from vigil.services.common import free_port, wait_port
from vigil.store import EventStore
from vigil.store.events import counts
from vigil.store.query import CountQuery, EventQuery
from vigil.store.schema import events as events_table

Progress = Callable[[str, int, int], None]
BATCH = 5_000
CAMERAS = 40
DAYS = 14
DAY_MS = 86_400_000
END_MS = 1_795_000_000_000  # fixed, so a seeded store is reused as it is
TENANT = "default"  # the benchmark user's


@dataclass(frozen=True)
class ApiSettings:
    events: int = 1_000_000
    clients: int = 50
    processes: int = 2
    duration_s: float = 30.0
    workers: tuple[int, ...] = (1,)  # API processes of the node, one load run per entry
    kinds: tuple[str, ...] = KINDS  # the request kinds of the mix (load.GROUPS)
    real_captions: int = BASE_CAPTIONS  # distinct captions embedded for real (bench.search)


def seed(url: str, events: int, progress: Progress) -> None:
    """Write `events` synthetic events (40 cameras, 14 days) unless the store has them."""
    store = EventStore(url)
    try:
        store.migrate()
        with store.engine.connect() as connection:
            stored = connection.execute(sa.select(sa.func.count()).select_from(events_table))
            if stored.scalar_one() >= events:
                return
        batch = []
        done = 0
        for event in synthetic_events(
            events, end_ms=END_MS, days=DAYS, cameras=generated_cameras(CAMERAS)
        ):
            batch.append(event)
            if len(batch) == BATCH:
                done += store.upsert_events(batch)
                batch = []
                progress("seeding events", done, events)
        if batch:
            store.upsert_events(batch)
        progress("seeding events", events, events)
    finally:
        store.close()


def search_index(
    url: str, media_dir: Path, progress: Progress, real_captions: int = BASE_CAPTIONS
) -> dict[str, Any]:
    """The node's search index over every stored event: built once (as `vigil search reindex`
    builds it), then reused while it holds as many events as the store, as the seeded store is.

    The indexer embeds each distinct caption once. A million events have about 180,000
    distinct captions, which the sentence model takes over ten minutes to embed on two cores,
    so the vectors come from `vigil bench search`'s embedder: the first `real_captions` for
    real, the others near one of those (see vigil.bench.search). Queries are embedded for real
    by the node. The index of a database server's store is kept under the data directory too,
    named after the database: a throwaway server is seeded with the same events (same ids)
    each run, so its index is reused like a SQLite store's."""
    store = EventStore(url)
    try:
        embedder = BenchEmbedder(
            MiniLM(), media_dir.parent / "caption-vectors.npz", base=real_captions
        )
        service = SearchService.for_store(
            store, config=node_config(url, media_dir), embedder=embedder
        )
        stored = service.count_events()
        if service.index.stats()["events"] != stored:
            reindex(service, lambda done, total: progress("indexing for search", done, total))
        stats = service.index.stats()
        if stats["events"] != stored:
            raise RuntimeError(
                f"the search index {service.index.path} holds {stats['events']:,} events, "
                f"the store {stored:,}"
            )
        return {**stats, "path": str(service.index.path)}
    finally:
        store.close()


def _token(url: str) -> str:
    store = EventStore(url)
    try:
        auth = AuthStore(store.engine)
        user = auth.find_user("bench-investigator")
        if user is None:
            user = auth.create_user(
                "bench-investigator", os.urandom(16).hex(), Role.INVESTIGATOR, TENANT
            )
        return auth.create_token(user.id, "bench", None, now_ms() + 86_400_000)[1]
    finally:
        store.close()


def _cameras() -> Cameras:
    generated = generated_cameras(CAMERAS)
    return Cameras(
        all=[camera.id for camera in generated],
        own=[camera.id for camera in generated if camera.tenant == TENANT],
    )


def _search_request(params: dict[str, Any]) -> SearchRequest:
    """The search the node makes of an `/api/search` request's parameters."""

    def ms(value: str | None) -> int | None:
        return None if value is None else int(datetime.fromisoformat(value).timestamp() * 1000)

    camera = params.get("camera")
    explicit = Explicit(
        cameras=None if camera is None else {camera},
        start_ms=ms(params.get("start")),
        end_ms=ms(params.get("end")),
    )
    return SearchRequest(q=params["q"], tz=params["tz"], limit=params["limit"], explicit=explicit)


def store_only(
    url: str, media_dir: Path, kinds: tuple[str, ...] = KINDS, repeat: int = 30
) -> dict[str, float]:
    """The baseline: median ms of the same queries made one at a time on the store itself (no
    HTTP, authentication, policy, audit or concurrency), in the investigator's tenant; searches
    through the search service the node builds, over the same index."""
    store = EventStore(url)
    rng = random.Random(1)
    cameras = _cameras()
    tenants = frozenset({TENANT})
    timings: dict[str, list[float]] = defaultdict(list)
    search = None
    if any(kind in SEARCH_KINDS for kind in kinds):
        search = SearchService.for_store(store, config=node_config(url, media_dir))
    try:
        for _ in range(repeat):
            for kind in kinds:
                if search is not None and kind in SEARCH_KINDS:
                    request = _search_request(request_for(kind, rng, cameras, END_MS, DAYS)[1])
                    started = time.perf_counter()
                    search.search(request, tenants, audit=lambda **_: None)
                    timings[kind].append(time.perf_counter() - started)
                    continue
                day_start = END_MS - rng.randrange(DAYS) * DAY_MS - DAY_MS
                camera = rng.choice(cameras.all)
                started = time.perf_counter()
                if kind == "counts_day":
                    q = CountQuery(
                        start_ms=day_start,
                        end_ms=day_start + DAY_MS,
                        interval_s=3600,
                        tenants=tenants,
                        camera_ids=[camera],
                    )
                    store.counts(q)
                    # The same from the events alone, as before the hourly rollups.
                    raw_started = time.perf_counter()
                    counts(store.engine, q, rollups=False)
                    timings["counts_day_from_events"].append(time.perf_counter() - raw_started)
                    timings[kind].append(raw_started - started)
                    continue
                elif kind == "events_camera_day":
                    store.query_events(
                        EventQuery(
                            tenants=tenants,
                            camera_ids=[camera],
                            start_ms=day_start,
                            end_ms=day_start + DAY_MS,
                            limit=50,
                        )
                    )
                else:
                    page = store.query_events(EventQuery(tenants=tenants, limit=50))
                    if kind == "events_next_page" and page.next_cursor:
                        started = time.perf_counter()
                        store.query_events(
                            EventQuery(tenants=tenants, limit=50, cursor=page.next_cursor)
                        )
                timings[kind].append(time.perf_counter() - started)
    finally:
        store.close()
    return {
        kind: round(_percentile(sorted(values), 0.5) * 1000, 2) for kind, values in timings.items()
    }


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL server on loopback for one run, and its database's URL."""
    from vigil.services.postgres import PostgresServer

    directory = Path(tempfile.mkdtemp(prefix="vigil-bench-api-"))
    os.chmod(directory, 0o755)  # PostgreSQL runs as its own user when we are root
    try:
        with PostgresServer(directory / "postgres") as server:
            yield server.create_database("vigil_bench_api", extensions=())
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def run_api(settings: ApiSettings, url: str, media_dir: Path, progress: Progress) -> dict[str, Any]:
    started = time.monotonic()
    seed(url, settings.events, progress)
    seed_s = time.monotonic() - started
    token = _token(url)
    index = None
    if any(kind in SEARCH_KINDS for kind in settings.kinds):
        started = time.monotonic()
        index = search_index(url, media_dir, progress, settings.real_captions)
        index["build_s"] = round(time.monotonic() - started, 1)
    baseline = store_only(url, media_dir, settings.kinds)
    runs = [
        {"workers": workers, **load_run(settings, url, media_dir, token, workers)}
        for workers in settings.workers
    ]
    return {
        "events": settings.events,
        "store": url.split(":", 1)[0],
        "clients": settings.clients,
        "duration_s": settings.duration_s,
        "seed_s": round(seed_s, 1),
        "mix": list(settings.kinds),
        "search_index": index,
        **runs[0],
        "runs": runs,
        "store_only_p50_ms": baseline,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared), "
        f"Python {platform.python_version()}",
    }


def load_run(
    settings: ApiSettings,
    url: str,
    media_dir: Path,
    token: str,
    workers: int,
    source: Path | None = None,
) -> dict[str, Any]:
    """One load run against a node of `workers` API processes on one port; `source`: the
    `src` directory of another version of Vigil to run the node from (bench/api_ab.py)."""
    port = free_port()
    env = None if source is None else {**os.environ, "PYTHONPATH": str(source)}
    nodes = [
        subprocess.Popen(
            [sys.executable, "-m", "vigil.bench.api.node", str(port), url, str(media_dir)],
            env=env,
        )
        for _ in range(workers)
    ]
    context = multiprocessing.get_context("spawn")
    processes = []
    try:
        for node in nodes:
            wait_port(port, 60, node)
        time.sleep(2.0 * (workers - 1))  # every process listens (the port answers at the first)
        if any(kind in SEARCH_KINDS for kind in settings.kinds):
            _warm_search(port, token, workers)
        go, results = context.Event(), context.Queue()
        cameras = _cameras()
        per = settings.clients // settings.processes
        for index in range(settings.processes):
            clients = per + (settings.clients % settings.processes if index == 0 else 0)
            process = context.Process(
                target=run_clients,
                args=(
                    port,
                    token,
                    clients,
                    settings.kinds,
                    cameras,
                    END_MS,
                    DAYS,
                    settings.duration_s,
                    index,
                    go,
                    results,
                ),
                daemon=True,
            )
            process.start()
            processes.append(process)
        time.sleep(3.0)  # the client processes are up
        cpu_start = sum(_cpu_s(node.pid) for node in nodes)
        go.set()
        samples: list[Sample] = []
        for _ in processes:
            samples.extend(results.get(timeout=settings.duration_s + 300))
        node_cpu_s = sum(_cpu_s(node.pid) for node in nodes) - cpu_start
    finally:
        for process in processes:
            process.join(10)
        for node in nodes:
            node.terminate()
            node.wait(10)
    by_kind: dict[str, list[float]] = defaultdict(list)
    with_hits: dict[str, int] = defaultdict(int)
    statuses: dict[str, int] = defaultdict(int)
    for kind, seconds, status, hits in samples:
        statuses[str(status)] += 1
        if status == 200:
            by_kind[kind].append(seconds)
            with_hits[kind] += bool(hits)
    rows: dict[str, dict[str, Any]] = {}
    for kind in (kind for kind in KINDS if kind in by_kind):
        values = sorted(by_kind[kind])
        rows[kind] = {
            "requests": len(values),
            "p50_ms": round(_percentile(values, 0.5) * 1000, 1),
            "p99_ms": round(_percentile(values, 0.99) * 1000, 1),
        }
        if kind in SEARCH_KINDS:
            rows[kind]["with_hits"] = round(with_hits[kind] / len(values), 3)
    searches = sum(len(by_kind[kind]) for kind in SEARCH_KINDS)
    requests = sum(statuses.values())
    return {
        "requests_per_s": round(requests / settings.duration_s, 1),
        # Share of the answered searches with at least one hit: an index that does not cover
        # the store answers fast and empty, which this shows.
        "searches_with_hits": (
            round(sum(with_hits[kind] for kind in SEARCH_KINDS) / searches, 3)
            if searches
            else None
        ),
        "node_cpu_ms_per_request": round(node_cpu_s * 1000 / max(requests, 1), 2),
        "load_average": round(os.getloadavg()[0], 1),
        "statuses": dict(statuses),
        "kinds": rows,
    }


def _warm_search(port: int, token: str, workers: int) -> None:
    """Each API process reads the search index into memory and loads the sentence model on its
    first search; that is done here, before the clock starts, over fresh connections (the
    kernel spreads them over the processes sharing the port: 8 per process leave one out with a
    probability under e^-8, 3 in 10,000). Refuses to go on when no answer has a hit: an index
    that does not cover the store would be measured answering fast and empty."""
    headers = {"Authorization": f"Bearer {token}", "X-Vigil-Purpose": "benchmark"}
    hits = 0
    for attempt in range(8 * workers):
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=600
        ) as client:
            response = client.get(
                "/api/search", params={"q": QUERIES[attempt % len(QUERIES)], "tz": "UTC"}
            )
        if response.status_code != 200:
            raise RuntimeError(f"search answered {response.status_code}: {response.text[:300]}")
        hits += len(response.json()["items"])
    if not hits:
        raise RuntimeError("the node's searches found nothing: its search index is empty")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
