"""Signals become events: one id per key, start → update → end, and snapshots when they matter."""

from __future__ import annotations

import numpy as np

from tests.modules.synth import camera
from vigil.domain.events import EventState, Phase
from vigil.domain.frames import Frame
from vigil.modules.base import Signal
from vigil.pipeline.lifecycle import EventLifecycle

IMAGE = np.full((480, 640, 3), 128, dtype=np.uint8)


def frame(seq: int) -> Frame:
    return Frame("cam", seq, 1_790_000_000_000 + seq * 200, IMAGE)


def person(phase: Phase, score: float, **fields: object) -> Signal:
    return Signal(key=("plaza", 7), phase=phase, type="zone.presence", track_id=7, class_id=0,
                  class_name="person", score=score, box=(10, 20, 50, 120), zone="plaza", **fields)


def test_visit_keeps_one_id_from_start_to_end() -> None:
    life = EventLifecycle(camera({}))
    (start, shot), = life.apply("zone", [person(Phase.START, 0.6)], frame(0), frame(0).ts_ms)
    (update, none), = life.apply("zone", [person(Phase.UPDATE, 0.65, dwell_s=5.0)], frame(1),
                                 frame(1).ts_ms)
    (end, _), = life.apply("zone", [person(Phase.END, 0.62, dwell_s=6.0)], frame(2),
                           frame(2).ts_ms)
    assert start.phase is Phase.START and update.phase is Phase.UPDATE and end.phase is Phase.END
    assert start.event.id == update.event.id == end.event.id
    assert start.event.state is EventState.ACTIVE and end.event.state is EventState.ENDED
    assert end.event.dwell_s == 6.0 and end.event.end_ms == frame(2).ts_ms
    assert shot is not None and shot.key == start.event.snapshot and none is None
    assert life.open_events == 0


def test_end_replaces_the_snapshot_only_for_a_clearly_better_view() -> None:
    life = EventLifecycle(camera({}))
    life.apply("zone", [person(Phase.START, 0.5)], frame(0), 0)
    life.apply("zone", [person(Phase.UPDATE, 0.9)], frame(5), 1000)
    (end, better), = life.apply("zone", [person(Phase.END, 0.55)], frame(6), 1200)
    assert better is not None and better.frame_seq == 5 and end.event.object is not None
    assert end.event.object.score == 0.9

    life.apply("zone", [person(Phase.START, 0.5)], frame(10), 2000)
    life.apply("zone", [person(Phase.UPDATE, 0.55)], frame(11), 2200)
    (_, same), = life.apply("zone", [person(Phase.END, 0.5)], frame(12), 2400)
    assert same is None


def test_instant_event_is_published_once_already_ended() -> None:
    life = EventLifecycle(camera({}))
    crossing = Signal(key=("gate", 3, 0, "in"), phase=Phase.END, type="line.crossing",
                      track_id=3, class_id=2, class_name="car", score=0.8, box=(1, 2, 3, 4),
                      line="gate", direction="in", instant=True)
    (message, shot), = life.apply("line", [crossing], frame(0), 5)
    assert message.phase is Phase.END and message.event.state is EventState.ENDED
    assert message.event.start_ms == message.event.end_ms == 5
    assert shot is not None and life.open_events == 0


def test_scene_event_has_no_object_and_a_plain_snapshot() -> None:
    life = EventLifecycle(camera({}))
    covered = Signal(key=("lens",), phase=Phase.START, type="tamper.covered")
    (message, shot), = life.apply("tamper", [covered], frame(0), 0)
    assert message.event.object is None
    assert shot is not None and shot.box is None


def test_close_all_ends_open_events_without_a_frame() -> None:
    life = EventLifecycle(camera({}))
    life.apply("zone", [person(Phase.START, 0.6)], frame(0), 0)
    (message, shot), = life.close_all({}, 900)
    assert message.phase is Phase.END and message.event.end_ms == 900 and shot is None


def test_attributes_of_later_signals_reach_the_event() -> None:
    life = EventLifecycle(camera({}))
    life.apply("zone", [person(Phase.START, 0.6, attributes={"peak": 3})], frame(0), 0)
    (end, _), = life.apply("zone", [person(Phase.END, 0.6, attributes={"peak": 5,
                                                                       "reason": "left"})],
                           frame(1), 200)
    assert end.event.attributes["peak"] == 5 and end.event.attributes["reason"] == "left"
