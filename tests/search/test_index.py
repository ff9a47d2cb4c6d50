"""The index: incremental and idempotent writes, tenant scope, paging, facets, removal."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.search.embedding_cache import CachedEmbedder
from tests.search.labelled import NOW_MS
from vigil.bench.synthetic import synthetic_events
from vigil.domain.events import Event, EventState, ObjectInfo
from vigil.search.index import SearchIndex, index_path_for
from vigil.search.indexer import reindex
from vigil.search.results import Explicit
from vigil.search.service import SearchRequest, SearchService
from vigil.store import EventStore
from vigil.store.query import QueryError


def ask(service: SearchService, q: str, tenants: set[str] | None = None, **fields: object
        ) -> list[Event]:
    request = SearchRequest(q=q, tz="UTC", **fields)  # type: ignore[arg-type]
    return [hit.event for hit in service.search(request, tenants, now=NOW_MS).result.hits]


def loitering(event_id: str) -> Event:
    """A person loitering in the dock's yard for five seconds, a minute ago."""
    return Event(
        id=event_id, tenant="default", camera_id="dock", camera_name="Dock", module="loitering",
        type="loitering", state=EventState.ACTIVE,
        object=ObjectInfo(class_name="person", class_id=0, score=0.8, color="red"),
        zone="yard", dwell_s=5.0, start_ms=NOW_MS - 60_000, updated_ms=NOW_MS - 60_000,
    )


@pytest.fixture
def filled(store: EventStore, service: SearchService) -> list[Event]:
    events = list(synthetic_events(200))
    store.upsert_events(events)
    service.index.index_events(events)
    return events


def test_index_path_sits_beside_the_store(tmp_path: Path) -> None:
    assert index_path_for("sqlite:///data/vigil.db", tmp_path) == Path("data/vigil.search.db")
    # A server's store: named after its database, so two stores never share one index.
    assert index_path_for("postgresql://h/vigil", tmp_path) == tmp_path / "vigil.search.db"
    assert index_path_for("postgresql+psycopg://u:p@h:5432/site_b", tmp_path) == (
        tmp_path / "site_b.search.db")
    assert index_path_for("postgresql://h/../x y", tmp_path) == tmp_path / "_x_y.search.db"
    assert index_path_for("postgresql://h", tmp_path) == tmp_path / "vigil.search.db"


def test_an_event_is_indexed_when_it_starts_and_again_when_it_changes(
    store: EventStore, service: SearchService
) -> None:
    visit = loitering("01a1a666-e467-73b4-bcf1-5e3a6eec8213")
    store.upsert_events([visit])
    assert service.index.index_events([visit]) == 1
    assert service.index.index_events([visit]) == 0  # same caption: nothing to write
    hits = ask(service, "person loitering in the yard")
    assert [e.id for e in hits] == [visit.id]

    longer = visit.model_copy(update={"dwell_s": 700.0, "updated_ms": NOW_MS})
    assert service.index.index_events([longer]) == 1  # "for about ten minutes" now
    ended = longer.model_copy(update={"state": EventState.ENDED, "end_ms": NOW_MS})
    assert service.index.index_events([ended]) == 1  # ended: written once more
    assert service.index.index_events([ended, longer]) == 0  # the ended state wins
    assert service.index.stats() == {"captions": 2, "events": 1}


def test_filters_facets_timeline_and_reasons(filled: list[Event], service: SearchService
                                             ) -> None:
    response = service.search(SearchRequest(q="cars at the dock", tz="UTC", limit=5), None,
                              now=NOW_MS)
    expected = [e for e in filled if e.camera_id == "dock" and e.object
                and e.object.class_name == "car"]
    result = response.result
    assert result.total == len(expected) > 0
    assert all(h.event.camera_id == "dock" and h.event.object.class_name == "car"  # type: ignore[union-attr]
               for h in result.hits)
    assert sum(f.count for f in result.facets["class_name"]) == result.total
    assert [(f.value, f.label) for f in result.facets["camera_id"]] == [("dock", "Dock")]
    assert sum(result.timeline["counts"]) == result.total
    assert "place camera Dock ('dock')" in response.reasons[0]
    assert "class car ('cars')" in response.reasons[0]
    assert "similarity" in response.reasons[0]


def test_explicit_filters_narrow(filled: list[Event], service: SearchService) -> None:
    everything = service.search(SearchRequest(q="person", tz="UTC"), None, now=NOW_MS).result
    north = service.search(SearchRequest(q="person", tz="UTC",
                                         explicit=Explicit(cameras={"north-gate"})),
                           None, now=NOW_MS).result
    assert 0 < north.total < everything.total
    assert {h.event.camera_id for h in north.hits} == {"north-gate"}


def test_tenant_scope(filled: list[Event], service: SearchService) -> None:
    harbour = ask(service, "line crossings", tenants={"harbour"}, limit=50)
    assert harbour and {e.tenant for e in harbour} == {"harbour"}
    assert ask(service, "line crossings", tenants=set()) == []
    # Another tenant's camera names are not even recognised as places.
    parsed = service.parse("people at the dock", "UTC", {"harbour"}, NOW_MS)
    assert not parsed.filters.places and "dock" in parsed.keywords
    scoped = service.search(SearchRequest(q="people at the dock", tz="UTC"), {"harbour"},
                            now=NOW_MS).result
    assert all(f.value != "dock" for f in scoped.facets["camera_id"])


def test_pages_are_stable_while_events_arrive(
    store: EventStore, filled: list[Event], service: SearchService
) -> None:
    first = service.search(SearchRequest(q="person", tz="UTC", limit=20), None, now=NOW_MS)
    assert first.next_cursor
    newer = list(synthetic_events(30, seed=99, end_ms=NOW_MS + 1000, days=1))
    store.upsert_events(newer)
    service.index.index_events(newer)
    seen = [h.event.id for h in first.result.hits]
    cursor = first.next_cursor
    while cursor:
        page = service.search(SearchRequest(q="person", tz="UTC", limit=20, cursor=cursor),
                              None)
        seen += [h.event.id for h in page.result.hits]
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == first.result.total
    with pytest.raises(QueryError, match="cursor"):
        service.search(SearchRequest(q="cars", tz="UTC", cursor=first.next_cursor), None)
    with pytest.raises(QueryError, match="cursor"):
        service.search(SearchRequest(q="person", tz="UTC", cursor="garbage!"), None)


def test_removed_events_are_forgotten(filled: list[Event], service: SearchService) -> None:
    before = service.search(SearchRequest(q="person", tz="UTC"), None, now=NOW_MS).result.total
    gone = [e.id for e in filled if e.object and e.object.class_name == "person"][:5]
    assert service.index.remove(gone) == 5
    after = service.search(SearchRequest(q="person", tz="UTC"), None, now=NOW_MS).result
    assert after.total == before - 5
    assert not {h.event.id for h in after.hits} & set(gone)


def test_a_second_reader_sees_writes_and_rebuilds(
    store: EventStore, filled: list[Event], service: SearchService,
    cached_embedder: CachedEmbedder,
) -> None:
    other = SearchService(store, SearchIndex(service.index.path, cached_embedder))
    assert other.index.stats() == service.index.stats()
    assert reindex(service) == len(filled)
    assert other.index.stats()["events"] == len(filled)
    assert ask(other, "abandoned suitcase")


def test_a_refresh_that_failed_is_tried_again_by_the_next_search(
    store: EventStore, filled: list[Event], service: SearchService,
    cached_embedder: CachedEmbedder, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reader whose refresh failed (a locked database) must not take its mirror for current:
    the next search picks up what was written, without waiting for another commit."""
    import sqlite3

    reader = SearchService(store, SearchIndex(service.index.path, cached_embedder))
    assert ask(reader, "abandoned suitcase")  # the reader's mirror is current
    visit = loitering("01a1a666-e467-73b4-bcf1-5e3a6eec8214")
    store.upsert_events([visit])
    service.index.index_events([visit])  # written by another reader's connection

    def locked(*_: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(reader.index, "_add_captions", locked)
        with pytest.raises(sqlite3.OperationalError):
            ask(reader, "person loitering in the yard")
    assert visit.id in {e.id for e in ask(reader, "person loitering in the yard")}


def test_top_matches_a_full_sort() -> None:
    import numpy as np

    from vigil.search.ranking import top

    rng = np.random.default_rng(1)
    docs = np.arange(20_000)
    rows = rng.integers(0, 300, len(docs))
    starts = rng.integers(0, 10_000, len(docs))
    tiers = np.repeat([0.5, 0.2, 0.1], [100, 100, 101])
    for caption_score in (rng.random(301), np.zeros(301), tiers):
        for k in (1, 24, 100):
            full = np.lexsort((-docs, -starts, -caption_score[rows]))[:k]
            assert top(docs, rows, starts, caption_score, k).tolist() == docs[full].tolist()


def test_filters_only_queries_are_newest_first(filled: list[Event], service: SearchService
                                               ) -> None:
    hits = ask(service, "last week", limit=30)
    assert hits and [e.start_ms for e in hits] == sorted((e.start_ms for e in hits), reverse=True)


@pytest.mark.parametrize("rebuild_min", [10**9, 1], ids=["never rebuilt", "rebuilt on the way"])
def test_results_are_the_same_before_and_after_the_postings_are_rebuilt(
    store: EventStore, filled: list[Event], service: SearchService,
    cached_embedder: CachedEmbedder, monkeypatch: pytest.MonkeyPatch, rebuild_min: int,
) -> None:
    """Events written after the postings were built (new, changed, removed) are found as if the
    postings held them: a reader that never rebuilds, or drops them on the way and rebuilds,
    answers as one that builds afresh."""
    monkeypatch.setattr("vigil.search.postings.REBUILD_MIN", rebuild_min)
    questions = [("person", None), ("cars at the dock", None), ("line crossings", {"harbour"}),
                 ("last week", None), ("people loitering for more than a minute", None)]

    def answers(reader: SearchService) -> list[tuple[object, ...]]:
        out = []
        for q, tenants in questions:
            result = reader.search(SearchRequest(q=q, tz="UTC", limit=50), tenants,
                                   now=NOW_MS).result
            out.append((q, result.total, [h.event.id for h in result.hits],
                        {k: [(f.value, f.count) for f in v] for k, v in result.facets.items()},
                        result.timeline["counts"]))
        return out

    answers(service)  # builds the postings over the first 200 events
    newer = list(synthetic_events(60, seed=7, end_ms=NOW_MS, days=3))
    store.upsert_events(newer)
    service.index.index_events(newer)
    longer = [e.model_copy(update={"dwell_s": 900.0, "updated_ms": NOW_MS})
              for e in filled[:40] if e.dwell_s is not None]
    store.upsert_events(longer)
    assert service.index.index_events(longer) > 0
    service.index.remove([e.id for e in filled[40:50]])

    stale = answers(service)
    fresh = answers(SearchService(store, SearchIndex(service.index.path, cached_embedder),
                                  audit=lambda **_: None))
    assert stale == fresh
    assert all(total for _, total, *_ in stale)
