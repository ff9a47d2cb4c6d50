"""`vigil bench search`: query latency over N synthetic events, against brute-force numpy.

The data set (events in an event store, and their search index) is built once per N under
`data/bench/search-<N>/` and reused by later runs. Building it embeds captions: a million events
have a few hundred thousand distinct captions, which take the bundled model over ten minutes on
two cores, so the benchmark embeds the first `BASE_CAPTIONS` distinct captions for real (cached in
`data/bench/caption-vectors.npz`) and gives every other caption the vector of one of those,
chosen by a hash of its text. Latency depends on how many caption vectors are scored and how
many events are filtered, not on which vectors they are, so the figures hold; search quality is
measured separately (tests/search, with the real model on every caption).

Measured per query, after one warm-up pass, each query `repeat` times:

- **vigil**: the whole search as the API runs it: parse, embed the query, filters, scoring of
  the distinct captions, FTS5 keyword ranking, fusion, facets, timeline, and fetching the page's
  events from the event store;
- **brute force**: the same parsed filters and the same query vector, scored against one
  vector per event (N x 384 float32 in memory) with numpy, filtered, top 24 by argpartition.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vigil.bench.synthetic import generated_cameras, synthetic_events
from vigil.domain.events import Event
from vigil.search.embedding import MiniLM
from vigil.search.index import SearchIndex
from vigil.search.service import SearchRequest, SearchService
from vigil.store.store import EventStore

BASE_CAPTIONS = 8000
END_MS = 1_795_000_000_000
DAYS = 30
CAMERAS = 40
SEED = 11
QUERIES = (
    "white van in the loading zone last night",
    "people running near market north between 2 and 4 pm",
    "person loitering at night",
    "red car",
    "DHL truck",
    "vehicles going the wrong way yesterday",
    "abandoned suitcase in the last 2 hours",
    "bus with line 42 this morning",
    "camera covered",
    "someone hanging around the river zone",
    "black motorcycle speeding",
    "crowded square area",
    "cyclists crossing the bridge line going in",
    "stopped vehicle on station corner",
    "people",
    "blue truck yesterday 14:00-16:00",
    "fresh bread delivery",
    "gray car parked for a long time",
    "person crossing in the evening",
    "ambulance",
)


class BenchEmbedder:
    """Real vectors for the first `base` distinct texts, reused by hash for the rest."""

    def __init__(self, inner: MiniLM, cache: Path, base: int = BASE_CAPTIONS) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.base = base
        self.cache = cache
        self.texts: list[str] = []
        self.vectors = np.zeros((0, inner.dim), dtype=np.float32)
        self._index: dict[str, int] = {}
        if cache.exists():
            data = np.load(cache, allow_pickle=False)
            if str(data["model"]) == inner.name:
                self.texts = [str(t) for t in data["texts"]]
                self.vectors = data["vectors"].astype(np.float32)
                self._index = {t: i for i, t in enumerate(self.texts)}

    def embed(self, texts: list[str]) -> np.ndarray:
        fresh = [
            t for t in dict.fromkeys(texts) if t not in self._index and len(self.texts) < self.base
        ]
        fresh = fresh[: self.base - len(self.texts)]
        if fresh:
            vectors = self.inner.embed(fresh)
            for text in fresh:
                self._index[text] = len(self.texts)
                self.texts.append(text)
            self.vectors = np.concatenate([self.vectors, vectors])
            self.save()
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            position = self._index.get(text)
            if position is not None:
                out[i] = self.vectors[position]
                continue
            # A real caption's vector, moved a little (seeded by the text) and normalised:
            # distinct vectors in the neighbourhoods real captions have.
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest())
            rng = np.random.default_rng(seed)
            vector = self.vectors[seed % max(1, len(self.texts))] + rng.normal(
                0.0, 0.02, self.dim
            ).astype(np.float32)
            out[i] = vector / np.linalg.norm(vector)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """Queries are always embedded for real, and never from a cache."""
        return np.asarray(self.inner._run([text])[0], dtype=np.float32)

    def save(self) -> None:
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        partial = self.cache.with_suffix(".partial.npz")
        np.savez(
            partial,
            model=self.name,
            texts=np.array(self.texts),
            vectors=self.vectors.astype(np.float32),
        )
        partial.replace(self.cache)


@dataclass(slots=True)
class BenchData:
    events: int
    directory: Path
    store: EventStore
    service: SearchService


def build(events: int, root: Path, progress: Callable[[str, int, int], None]) -> BenchData:
    """The store and index for `events` synthetic events, built once and then reused."""
    directory = root / f"search-{events}"
    directory.mkdir(parents=True, exist_ok=True)
    done = directory / "complete.json"
    store = EventStore(f"sqlite:///{directory / 'vigil.db'}")
    embedder = BenchEmbedder(MiniLM(), root / "caption-vectors.npz")
    index = SearchIndex(directory / "vigil.search.db", embedder)
    service = SearchService(store, index)
    if not done.exists():
        store.migrate()
        index.clear()
        cameras = generated_cameras(CAMERAS)
        batch: list[Event] = []
        written = 0
        for event in synthetic_events(events, seed=SEED, end_ms=END_MS, days=DAYS, cameras=cameras):
            batch.append(event)
            if len(batch) == 5000:
                store.upsert_events(batch)
                index.index_events(batch)
                written += len(batch)
                batch = []
                progress("building", written, events)
        if batch:
            store.upsert_events(batch)
            index.index_events(batch)
            written += len(batch)
        progress("building", written, events)
        done.write_text(json.dumps({"events": events, **index.stats()}) + "\n")
    return BenchData(events, directory, store, service)


def _percentiles(samples: list[float]) -> dict[str, float]:
    array = np.array(samples) * 1000
    return {
        "p50_ms": round(float(np.percentile(array, 50)), 2),
        "p95_ms": round(float(np.percentile(array, 95)), 2),
        "max_ms": round(float(array.max()), 2),
    }


def brute_force_baseline(data: BenchData) -> Callable[[str], float]:
    """A query function scoring one vector per event with numpy, same filters, top 24."""
    index = data.service.index
    index.refresh()
    n_docs = index._max_doc + 1
    rows = index._doc_row.data[:n_docs].copy()
    present = rows >= 0
    docs = np.flatnonzero(present)
    rows = rows[docs]
    vectors = index._vectors.data[: index._n_captions]
    per_event = vectors[rows]  # N x 384 float32: what a per-event index would hold
    starts = index._doc_start.data[:n_docs][docs]
    columns = {
        name: index._columns[name].data[: index._n_captions][rows]
        for name in ("class_name", "color", "type", "zone", "line", "camera_id", "direction")
    }

    def run(q: str) -> float:
        started = time.perf_counter()
        parsed = data.service.parse(q, "UTC", None, END_MS)
        f = parsed.filters
        mask = np.ones(len(docs), dtype=bool)
        wanted: tuple[tuple[str, set[str] | None], ...] = (
            ("class_name", f.classes),
            ("color", f.colors),
            ("type", f.types),
            ("direction", f.directions),
        )
        for column, values in wanted:
            if values is not None:
                mask &= np.isin(columns[column], index._codes[column].wanted(values))
        for place in f.places:
            anywhere = np.zeros(len(docs), dtype=bool)
            for column, names in (
                ("camera_id", place.cameras),
                ("zone", place.zones),
                ("line", place.lines),
            ):
                if names:
                    anywhere |= np.isin(columns[column], index._codes[column].wanted(names))
            mask &= anywhere
        if f.start_ms is not None:
            mask &= starts >= f.start_ms
        if f.end_ms is not None:
            mask &= starts < f.end_ms
        if parsed.semantic_text:
            query = index.embedder.embed([parsed.semantic_text])[0]
            scores = per_event @ query
            scores[~mask] = -np.inf
            k = min(24, len(scores))
            top = np.argpartition(-scores, k - 1)[:k]
            top[np.argsort(-scores[top])]
        return time.perf_counter() - started

    return run


def run_bench(
    events: int, root: Path, repeat: int, progress: Callable[[str, int, int], None]
) -> dict[str, Any]:
    data = build(events, root, progress)
    service = data.service
    stats = service.index.stats()
    now = END_MS

    def ours(q: str) -> float:
        started = time.perf_counter()
        service.search(
            SearchRequest(q=q, tz="UTC", limit=24), None, now=now, audit=lambda **_: None
        )
        return time.perf_counter() - started

    baseline = brute_force_baseline(data)
    results: dict[str, Any] = {}
    for label, run in (("vigil", ours), ("brute_force_numpy", baseline)):
        for q in QUERIES:  # warm-up: caches, first-touch of memory pages
            run(q)
        samples = []
        total = repeat * len(QUERIES)
        for i in range(repeat):
            for q in QUERIES:
                samples.append(run(q))
            progress(label, (i + 1) * len(QUERIES), total)
        results[label] = _percentiles(samples)
    return {
        "events": events,
        "distinct_captions": stats["captions"],
        "queries": len(QUERIES),
        "repeat": repeat,
        "machine": machine(),
        **results,
    }


def machine() -> str:
    import os

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
