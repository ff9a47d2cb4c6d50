"""The pixel- and stream-level modules inside the real pipeline, on the bundled clip: they run
on the engine's frames and status checks, produce the expected events (motion) and none of the
faults (the clip is healthy), and the motion gate keeps counting frames."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.media import CLIP
from vigil.cli.analyze import analyze_video
from vigil.config import VigilConfig
from vigil.store import EventQuery, EventStore, SeriesQuery

SCENE_MODULES = {
    "motion": {"gate_detection": True},
    "heatmap": {"classes": ["person"]},
    "tamper_covered": {},
    "tamper_defocus": {},
    "tamper_moved": {},
    "stream_health": {},
    "object_removed": {
        "regions": [{"name": "van", "polygon": [[652, 45], [723, 45], [723, 100], [652, 100]]}]
    },
}


# `vigil analyze --keep` always keeps a SQLite store (vigil.cli.analyze): the PostgreSQL run would
# repeat the same SQLite run.
@pytest.mark.sqlite_only(reason="vigil analyze --keep writes a SQLite store")
def test_scene_modules_on_the_healthy_clip(demo_config: VigilConfig, tmp_path: Path) -> None:
    camera = demo_config.cameras[0]
    camera.modules = {"zone": {"classes": ["person"]}, **SCENE_MODULES}
    keep = tmp_path / "run"
    summary = analyze_video(CLIP, demo_config, fps=2, keep=keep)
    assert summary["frames"] >= 150

    events = summary["events"]
    assert events.get("motion", 0) >= 1  # people walk through the whole clip
    assert events.get("zone", 0) >= 3  # detection still works with the gate on
    for quiet in ("tamper_covered", "tamper_defocus", "tamper_moved", "object_removed",
                  "stream_health"):
        assert events.get(quiet, 0) == 0, f"{quiet} raised {events[quiet]} events on a clean clip"

    store = EventStore(f"sqlite:///{keep / 'vigil.db'}")  # what analyze_video kept
    (motion,) = store.query_events(EventQuery(type="motion", limit=10)).items[:1]
    assert motion.object is None and motion.module == "motion" and motion.snapshot
    assert 0 < motion.attributes["area"] < 0.5
    series = store.query_series(
        SeriesQuery(start_ms=motion.start_ms - 120_000, end_ms=motion.start_ms + 300_000,
                    metrics=["motion_fraction"])
    )
    assert sum(row.samples for row in series) == summary["frames"]


def test_scene_modules_are_registered_with_described_strict_schemas() -> None:
    from vigil.modules.registry import describe_modules

    described = {m["name"]: m for m in describe_modules()}
    for name in SCENE_MODULES:
        assert described[name]["description"], name
        schema = described[name]["settings_schema"]
        assert schema.get("additionalProperties") is False, name
        for key, prop in schema["properties"].items():
            assert prop.get("description"), f"{name}.{key} has no description"
