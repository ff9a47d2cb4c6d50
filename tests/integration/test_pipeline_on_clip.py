"""The whole pipeline on the bundled street clip: people are tracked, crossings counted, events
and face-blurred snapshots stored."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.media import CLIP
from vigil.cli.analyze import analyze_video
from vigil.config import VigilConfig
from vigil.store import EventQuery, EventStore, LocalMediaStore, SeriesQuery


# `vigil analyze --keep` always keeps a SQLite store (vigil.cli.analyze): the PostgreSQL run would
# repeat the same SQLite run. The runtime's store on PostgreSQL is covered by
# tests/integration/test_privacy.py, tests/search/test_runtime.py and the e2e server tests.
@pytest.mark.sqlite_only(reason="vigil analyze --keep writes a SQLite store")
def test_clip_is_tracked_counted_and_stored(demo_config: VigilConfig, tmp_path: Path) -> None:
    keep = tmp_path / "run"
    summary = analyze_video(CLIP, demo_config, fps=5, keep=keep)

    assert summary["frames"] >= 150  # 79.5 s at 5 fps, sampled by media time
    # The clip shows well over a dozen different pedestrians; a tracker that loses them all the
    # time reports hundreds, one that never confirms a track reports none.
    assert 8 <= summary["tracks"].get("person", 0) <= 80
    assert summary["events"].get("line", 0) >= 4
    assert summary["events"].get("zone", 0) >= 5

    store = EventStore(f"sqlite:///{keep / 'vigil.db'}")  # what analyze_video kept
    crossings = store.query_events(EventQuery(type="line.crossing", limit=1000)).items
    assert len(crossings) == summary["events"]["line"]
    directions = {event.direction for event in crossings}
    assert directions == {"in", "out"}  # people walk both ways past the lamp post
    assert all(event.line == "lamp-post" and event.state == "ended" for event in crossings)

    visits = store.query_events(EventQuery(type="zone.presence", limit=1000)).items
    assert visits and all(event.zone == "walkway" for event in visits)
    ended = [event for event in visits if event.state == "ended"]
    assert ended and all(event.dwell_s is not None and event.dwell_s >= 1.0 for event in ended)

    # Zone occupancy is sampled every frame and stored per minute: the clip spans two minutes
    # of camera time at most, and people are in the walkway throughout.
    first = min(event.start_ms for event in visits)
    occupancy = store.query_series(SeriesQuery(start_ms=first - 120_000, end_ms=first + 300_000,
                                               metrics=["occupancy"], places=["walkway"]))
    assert 1 <= len(occupancy) <= 3
    assert sum(row.samples for row in occupancy) == summary["frames"]
    assert max(row.max for row in occupancy) >= 3

    media = LocalMediaStore(keep / "media")
    for event in crossings + visits:
        assert event.snapshot, f"event {event.id} has no snapshot"
        data = media.get(event.snapshot)
        assert data is not None and data[:2] == b"\xff\xd8", f"snapshot of {event.id} missing"
        # People's colours are personal descriptions: off unless a tenant switches them on.
        assert (event.object.color is None) == (event.object.class_name == "person")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (576, 768)
