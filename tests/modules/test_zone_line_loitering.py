"""Semantics of the first analytics modules, pinned down on synthetic tracks."""

from __future__ import annotations

import pytest

from tests.modules.synth import box_at, camera, frame
from vigil.config import ConfigError
from vigil.domain.events import Phase
from vigil.modules.registry import build_modules, describe_modules

INSIDE, OUTSIDE = box_at(200, 200), box_at(50, 200)


def run(module_name: str, settings: dict[str, object], frames: list) -> list:
    (module,) = build_modules(camera({module_name: settings}))
    signals = []
    for tracks in frames:
        signals.extend(module.update(tracks))
    return signals


def test_zone_visit_starts_on_entry_and_ends_after_grace_with_dwell() -> None:
    frames = [frame(0, (1, "person", OUTSIDE))]
    frames += [frame(t, (1, "person", INSIDE)) for t in range(1000, 7001, 1000)]
    frames += [frame(t, (1, "person", OUTSIDE)) for t in range(8000, 10001, 1000)]
    signals = run("zone", {"update_every_s": 2, "exit_grace_s": 1.5}, frames)
    phases = [s.phase for s in signals]
    assert phases[0] is Phase.START and phases[-1] is Phase.END
    assert phases.count(Phase.START) == 1 and phases.count(Phase.END) == 1
    assert phases.count(Phase.UPDATE) == 3  # at 3 s, 5 s and 7 s
    assert signals[0].zone == "plaza" and signals[0].class_name == "person"
    assert signals[-1].dwell_s == pytest.approx(6.0)  # inside from 1 s to 7 s


def test_zone_minimum_duration_ignores_passers_by() -> None:
    brief = [frame(t, (1, "person", INSIDE)) for t in (0, 500, 1000)]
    brief += [frame(t, (1, "person", OUTSIDE)) for t in range(2000, 5001, 1000)]
    assert run("zone", {"min_duration_s": 2}, brief) == []


def test_zone_short_gap_does_not_split_a_visit() -> None:
    frames = [frame(t, (1, "person", INSIDE)) for t in (0, 1000)]
    frames.append(frame(2000))  # detector missed the person for one frame
    frames += [frame(t, (1, "person", INSIDE)) for t in (3000, 4000)]
    frames += [frame(t) for t in (5000, 6000, 7000, 8000)]
    signals = run("zone", {"exit_grace_s": 2.5}, frames)
    assert [s.phase for s in signals] == [Phase.START, Phase.END]


def test_zone_class_filter() -> None:
    frames = [frame(t, (1, "dog", INSIDE), (2, "car", INSIDE)) for t in (0, 1000)]
    signals = run("zone", {"classes": ["car"]}, frames)
    assert {s.class_name for s in signals} == {"car"}


def test_line_crossing_direction_and_per_class_counts() -> None:
    (module,) = build_modules(camera({"line": {}}))
    # looking from start (400,0) to end (400,480) — downwards — right-hand side is x < 400
    walk_left = [box_at(x, 240) for x in (350, 380, 420, 450)]
    walk_right = [box_at(x, 240) for x in (450, 420, 380, 350)]
    signals = []
    for step, (a, b) in enumerate(zip(walk_left, walk_right, strict=True)):
        tracks = frame(step * 200, (1, "person", a), (2, "car", b), (3, "person", b))
        signals.extend(module.update(tracks))
    by = {(s.track_id, s.direction) for s in signals}
    assert by == {(1, "in"), (2, "out"), (3, "out")}
    assert all(s.phase is Phase.END and s.instant and s.line == "gate" for s in signals)
    assert module.stats() == {"gate": {"person": {"in": 1, "out": 1}, "car": {"in": 0, "out": 1}}}


def test_line_ignores_objects_that_do_not_cross() -> None:
    frames = [
        frame(t, (1, "person", box_at(300 + t / 100, 240))) for t in range(0, 5000, 500)
    ]
    assert run("line", {}, frames) == []


def test_loitering_fires_only_past_threshold() -> None:
    stay = [
        frame(t, (1, "person", INSIDE), (2, "car", INSIDE)) for t in range(0, 12001, 1000)
    ]
    leave = [frame(t) for t in range(13000, 17001, 1000)]
    signals = run("loitering", {"threshold_s": 10}, stay + leave)
    starts = [s for s in signals if s.phase is Phase.START]
    assert len(starts) == 1 and starts[0].class_name == "person"  # cars do not loiter by default
    assert starts[0].dwell_s == pytest.approx(10.0)
    assert signals[-1].phase is Phase.END and signals[-1].dwell_s == pytest.approx(12.0)


def test_finish_ends_open_visits() -> None:
    (module,) = build_modules(camera({"zone": {}}))
    module.update(frame(0, (1, "person", INSIDE)))
    ended = module.finish(500)
    assert [s.phase for s in ended] == [Phase.END]


def test_module_settings_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"modules\.loitering\.threshold_s"):
        camera({"loitering": {"threshold_s": -1}})
    with pytest.raises(ConfigError, match="unknown analytics module 'teleport'"):
        camera({"teleport": {}})
    with pytest.raises(ConfigError, match="nowhere not defined"):
        camera({"zone": {"zones": ["nowhere"]}})


def test_registry_describes_every_module_with_a_schema() -> None:
    described = {m["name"]: m for m in describe_modules()}
    assert {"zone", "line", "loitering"} <= set(described)
    assert "threshold_s" in described["loitering"]["settings_schema"]["properties"]
