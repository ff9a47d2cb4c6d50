"""The runtime starts the indexer: what the pipeline publishes is stored by the sink, comes back
on the committed bus, and is searchable within seconds; `stop()` indexes the last of it."""

from __future__ import annotations

import time

import pytest

from vigil.bench.synthetic import synthetic_events
from vigil.config import VigilConfig, parse_config
from vigil.domain.events import EventMessage, Phase
from vigil.runtime import build_runtime
from vigil.search.service import SearchRequest, SearchService


def test_published_events_become_searchable(demo_config: VigilConfig) -> None:
    runtime = build_runtime(demo_config, offline=True)
    try:
        assert runtime.search is not None
        service = SearchService.for_store(runtime.store)
        events = list(synthetic_events(25, seed=31))
        for event in events:
            runtime.bus.publish(EventMessage(phase=Phase.END, event=event))
        deadline = time.monotonic() + 15
        while service.index.stats()["events"] < len(events):
            assert time.monotonic() < deadline, "events were not indexed within 15 s"
            time.sleep(0.05)
        found = service.search(SearchRequest(q="camera covered", tz="UTC", limit=50), None,
                               now=events[-1].start_ms + 1).result
        assert found.total == sum(1 for e in events if e.type == "tamper.covered")
        late = list(synthetic_events(3, seed=32))
        for event in late:
            runtime.bus.publish(EventMessage(phase=Phase.END, event=event))
    finally:
        runtime.stop()
    assert service.index.stats()["events"] == len(events) + len(late)


def test_the_configured_zone_is_what_queries_without_one_mean(demo_config: VigilConfig) -> None:
    """docs/search.md: "this morning" is read in `server.timezone` when the config sets it."""
    configured = demo_config.model_copy(
        update={"server": demo_config.server.model_copy(update={"timezone": "Asia/Tokyo"})}
    )
    runtime = build_runtime(configured, offline=True)
    try:
        assert SearchService.for_store(runtime.store).default_tz == "Asia/Tokyo"
    finally:
        runtime.stop()
    with pytest.raises(ValueError, match=r"server\.timezone.*unknown IANA time zone 'Mars/Base'"):
        parse_config({"server": {"timezone": "Mars/Base"}})
