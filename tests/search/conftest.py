"""Fixtures of the search tests: the synthetic corpus (built once per session, with cached
caption vectors), and a fresh store with a search service."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.databases import database_url
from tests.search.embedding_cache import CachedEmbedder
from tests.search.labelled import NOW_MS, SYNTHETIC_EVENTS
from vigil.bench.synthetic import synthetic_events
from vigil.domain.events import Event
from vigil.search.index import SearchIndex
from vigil.search.indexer import reindex
from vigil.search.service import SearchService
from vigil.store import EventStore


@dataclass
class Corpus:
    store: EventStore
    service: SearchService
    events: list[Event]
    now_ms: int


@pytest.fixture(scope="session")
def cached_embedder() -> Iterator[CachedEmbedder]:
    embedder = CachedEmbedder()
    yield embedder
    embedder.save_if_refreshing()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory, cached_embedder: CachedEmbedder
           ) -> Iterator[Corpus]:
    """1500 synthetic events over 14 days, in a store and a complete search index."""
    where = tmp_path_factory.mktemp("search-corpus")
    store = EventStore(database_url(where, "corpus"))
    store.migrate()
    events = list(synthetic_events(SYNTHETIC_EVENTS))
    store.upsert_events(events)
    index = SearchIndex(where / "vigil.search.db", cached_embedder)
    service = SearchService(store, index, audit=lambda **_: None)
    reindex(service)
    yield Corpus(store, service, events, NOW_MS)
    index.close()
    store.close()


@pytest.fixture
def service(store: EventStore, tmp_path: Path, cached_embedder: CachedEmbedder) -> SearchService:
    index = SearchIndex(tmp_path / "vigil.search.db", cached_embedder)
    return SearchService(store, index, audit=lambda **_: None)
