"""API nodes of a cluster share caption vectors through the store (SQLite or PostgreSQL): a
second node indexing the same events, or a new node rebuilding its index, runs the model on
nothing the first one embedded, and finds the same events for the same query."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sqlalchemy as sa

from tests.search.embedding_cache import CachedEmbedder
from tests.search.labelled import NOW_MS
from vigil.auth.store import AuthStore
from vigil.bench.synthetic import synthetic_events
from vigil.config import RetentionConfig
from vigil.privacy.retention import RetentionJob
from vigil.search.index import SearchIndex
from vigil.search.indexer import reindex
from vigil.search.service import SearchRequest, SearchService
from vigil.search.shared_vectors import SharedVectors
from vigil.store import EventStore, LocalMediaStore
from vigil.store.schema import caption_vectors

DAY_MS = 86_400_000


class CountingEmbedder:
    """The suite's cached MiniLM, counting the texts it is asked to embed."""

    def __init__(self, inner: CachedEmbedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.texts = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts += len(texts)
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def node(store: EventStore, directory: Path, model: CountingEmbedder,
         clock_ms: int = NOW_MS) -> SearchService:
    shared = SharedVectors(model, store.engine, clock=lambda: clock_ms)
    return SearchService(store, SearchIndex(directory / "vigil.search.db", shared))


def top_ids(service: SearchService, q: str) -> list[str]:
    request = SearchRequest(q=q, tz="UTC")
    return [hit.event.id for hit in service.search(request, None, now=NOW_MS).result.hits]


def test_a_new_node_rebuilds_its_index_without_running_the_model(
    store: EventStore, tmp_path: Path, cached_embedder: CachedEmbedder
) -> None:
    events = list(synthetic_events(300, end_ms=NOW_MS))
    store.upsert_events(events)
    first_model, second_model = CountingEmbedder(cached_embedder), CountingEmbedder(cached_embedder)
    first = node(store, tmp_path / "api-1", first_model)
    first.index.index_events(events)
    assert first_model.texts > 0

    second = node(store, tmp_path / "api-2", second_model)
    reindex(second)  # a new node: its index is rebuilt from the store
    assert second_model.texts == 0
    assert second.index.stats() == first.index.stats()
    for q in ("white van", "person loitering at night", "red car speeding"):
        assert top_ids(second, q) == top_ids(first, q)


def test_vectors_expire_with_retention_and_are_embedded_again(
    store: EventStore, tmp_path: Path, cached_embedder: CachedEmbedder
) -> None:
    events = list(synthetic_events(50, end_ms=NOW_MS))
    old = NOW_MS - 40 * DAY_MS
    first_model = CountingEmbedder(cached_embedder)
    node(store, tmp_path / "api-1", first_model, clock_ms=old).index.index_events(events)
    with store.engine.connect() as connection:
        kept = connection.execute(sa.select(sa.func.count()).select_from(caption_vectors))
        assert kept.scalar() == first_model.texts
    job = RetentionJob(store.engine, LocalMediaStore(tmp_path / "media"), RetentionConfig(),
                       AuthStore(store.engine), clock=lambda: NOW_MS)
    job.run_once()
    with store.engine.connect() as connection:
        left = connection.execute(sa.select(sa.func.count()).select_from(caption_vectors))
        assert left.scalar() == 0  # older than events_days (30): gone
    second_model = CountingEmbedder(cached_embedder)
    node(store, tmp_path / "api-2", second_model).index.index_events(events)
    assert second_model.texts == first_model.texts
