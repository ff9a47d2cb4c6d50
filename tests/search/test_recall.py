"""Search quality: recall@10 over the labelled query set (tests/search/labelled.py) must stay at
or above 0.9, over the synthetic corpus and over the events of the bundled clip."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.databases import database_url
from tests.search.conftest import Corpus
from tests.search.embedding_cache import CachedEmbedder
from tests.search.labelled import CLIP, SYNTHETIC, Labelled, recall_at
from vigil.domain.events import Event
from vigil.search.index import SearchIndex
from vigil.search.indexer import reindex
from vigil.search.service import SearchRequest, SearchService
from vigil.store import EventStore

K = 10
MIN_RECALL = 0.9


def evaluate(service: SearchService, events: list[Event], queries: list[Labelled],
             now: int) -> list[tuple[str, int, float]]:
    rows = []
    for labelled in queries:
        relevant = {event.id for event in events if labelled.relevant(event)}
        assert relevant, f"{labelled.q!r}: the labelled set needs a relevant event"
        response = service.search(SearchRequest(q=labelled.q, tz="UTC", limit=K), None, now=now)
        ranked = [hit.event.id for hit in response.result.hits]
        rows.append((labelled.q, len(relevant), recall_at(K, ranked, relevant)))
    return rows


def report(title: str, rows: list[tuple[str, int, float]]) -> float:
    mean = sum(r for *_, r in rows) / len(rows)
    print(f"\n{title}: recall@{K} = {mean:.3f} over {len(rows)} queries")
    for q, relevant, recall in rows:
        print(f"  {recall:4.2f}  ({relevant:4d} relevant)  {q}")
    return mean


def test_labelled_set_is_large_enough() -> None:
    assert len(SYNTHETIC) + len(CLIP) >= 30
    assert len({q.q for q in SYNTHETIC + CLIP}) == len(SYNTHETIC) + len(CLIP)


def test_recall_on_synthetic_events(corpus: Corpus) -> None:
    rows = evaluate(corpus.service, corpus.events, SYNTHETIC, corpus.now_ms)
    mean = report("synthetic events", rows)
    assert mean >= MIN_RECALL
    assert all(recall >= 0.5 for *_, recall in rows), [r for r in rows if r[2] < 0.5]


CLIP_EVENTS = Path(__file__).resolve().parent / "data" / "clip-events.json"


@dataclass
class ClipRun:
    service: SearchService
    events: list[Event]
    now_ms: int


@pytest.fixture(scope="module")
def clip_run(tmp_path_factory: pytest.TempPathFactory, cached_embedder: CachedEmbedder
             ) -> Iterator[ClipRun]:
    """The events `analyze_video` made of the bundled clip with the demo's first camera
    (written by `python -m tests.search.make_clip_events`), in a fresh store and index; the
    clock stands 30 minutes after the last of them."""
    data = json.loads(CLIP_EVENTS.read_text())
    events = [Event.model_validate(item) for item in data["events"]]
    where = tmp_path_factory.mktemp("clip-events")
    store = EventStore(database_url(where, "clip"))
    store.migrate()
    store.upsert_events(events)
    index = SearchIndex(where / "vigil.search.db", cached_embedder)
    service = SearchService(store, index, audit=lambda **_: None)
    reindex(service)
    yield ClipRun(service, events, max(e.start_ms for e in events) + 30 * 60_000)
    index.close()
    store.close()


def test_recall_on_the_bundled_clip(clip_run: ClipRun) -> None:
    assert len(clip_run.events) >= 20
    assert {e.camera_id for e in clip_run.events} == {"plaza-east"}
    rows = evaluate(clip_run.service, clip_run.events, CLIP, clip_run.now_ms)
    mean = report("bundled clip (media/vtest.mp4, demo camera plaza-east)", rows)
    assert mean >= MIN_RECALL


def test_recall_with_the_sign_bit_shortlist(corpus: Corpus, cached_embedder: CachedEmbedder
                                            ) -> None:
    """Large indexes score a Hamming shortlist exactly instead of every caption: forced here
    (shortlist of 250 among the 1318 captions), quality holds."""
    index = SearchIndex(corpus.service.index.path, cached_embedder, exact_limit=0,
                        shortlist=250)
    service = SearchService(corpus.store, index, audit=lambda **_: None)
    rows = evaluate(service, corpus.events, SYNTHETIC, corpus.now_ms)
    mean = report("synthetic events, shortlist 250", rows)
    assert mean >= MIN_RECALL
    index.close()
