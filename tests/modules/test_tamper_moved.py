"""Camera moved / scene changed: edges that no longer match the learned view."""

from __future__ import annotations

import numpy as np
import pytest

from tests.modules.synth import camera
from tests.vision.footage import (
    BASE_MS,
    clip_frames,
    frame_view,
    noisy,
    rotated,
    shifted,
    textured_scene,
)
from vigil.config import ConfigError
from vigil.domain.events import Phase
from vigil.modules.registry import build_modules
from vigil.modules.tamper_moved import TamperMovedModule

SCENE = textured_scene(11)


def moved(**settings: object) -> TamperMovedModule:
    (module,) = build_modules(camera({"tamper_moved": settings}))
    assert isinstance(module, TamperMovedModule)
    return module


def run(module: TamperMovedModule, frames: list[np.ndarray]) -> list:
    signals = []
    for index, image in enumerate(frames):
        signals.extend(module.update(frame_view(BASE_MS + index * 200, image)))
    return signals


def seq(image: np.ndarray, count: int, seed: int = 0) -> list[np.ndarray]:
    return [noisy(image, seed + i) for i in range(count)]


FAST = {"learn_s": 2, "duration_s": 2, "recover_s": 1}


def test_a_panned_camera_is_reported_with_its_shift_and_the_return_ends_it() -> None:
    module = moved(**FAST)
    frames = seq(SCENE, 15) + seq(shifted(SCENE, 40, 12), 20) + seq(SCENE, 10)
    signals = run(module, frames)
    assert [(s.phase, s.type) for s in signals] == [
        (Phase.START, "tamper.moved"),
        (Phase.END, "tamper.moved"),
    ]
    start = signals[0]
    assert start.key == ("moved",) and start.track_id is None
    assert start.attributes["match"] < 0.55
    dx, dy = start.attributes["shift_px"]
    assert dx == pytest.approx(40, abs=6) and dy == pytest.approx(12, abs=6)


def test_a_turned_camera_and_a_different_scene_are_reported() -> None:
    for changed in (rotated(SCENE, 4), textured_scene(12)):
        signals = run(moved(**FAST), seq(SCENE, 15) + seq(changed, 15))
        assert [s.phase for s in signals] == [Phase.START]


def test_lighting_and_passing_objects_are_not_movement() -> None:
    module = moved(**FAST)
    dim = (SCENE * 0.45).astype(np.uint8)
    bright = np.clip(SCENE * 1.4 + 20, 0, 255).astype(np.uint8)
    passing = []
    for i in range(20):
        frame = SCENE.copy()
        frame[150:330, 30 + 25 * i : 90 + 25 * i] = (40, 40, 160)  # a person-sized box walks by
        passing.append(frame)
    frames = seq(SCENE, 15) + seq(dim, 15) + seq(bright, 15) + passing + seq(SCENE, 5)
    assert run(module, frames) == []
    assert module.stats()["match"] > 0.6


def test_a_small_shake_is_not_movement() -> None:
    frames = seq(SCENE, 15) + seq(shifted(SCENE, 2, 1), 20)
    assert run(moved(**FAST), frames) == []


def test_blank_frames_are_not_judged() -> None:
    frames = seq(SCENE, 15) + seq(np.zeros_like(SCENE), 20) + seq(SCENE, 5)
    assert run(moved(**FAST), frames) == []


def test_a_lasting_new_view_is_learned() -> None:
    module = moved(**FAST, relearn_after_s=3)
    new_view = shifted(SCENE, 60, 0)
    signals = run(module, seq(SCENE, 15) + seq(new_view, 60))
    assert [s.phase for s in signals] == [Phase.START, Phase.END]
    assert signals[1].attributes == {"relearned": True}
    assert module.stats()["learning"] is False and module.stats()["moved"] is False
    # the old view is now the changed one
    more = []
    for index, image in enumerate(seq(SCENE, 15)):
        more.extend(module.update(frame_view(BASE_MS + (100 + index) * 200, image)))
    assert [s.phase for s in more] == [Phase.START]


def test_finish_and_settings() -> None:
    module = moved(learn_s=1, duration_s=0)
    run(module, seq(SCENE, 8) + seq(textured_scene(13), 3))
    assert [s.phase for s in module.finish(BASE_MS + 5000)] == [Phase.END]
    with pytest.raises(ConfigError, match=r"modules\.tamper_moved\.min_match"):
        camera({"tamper_moved": {"min_match": 0}})


def test_camera_moved_on_the_street_clip() -> None:
    """Real frames: a pan of 30×10 px (4 % of the width) and a 3° roll are each reported once,
    with the pan's shift; the clip with its walking people and compression noise never is."""
    module = moved()  # defaults: 10 s learning, 5 s changed, 3 s to recover
    frames = list(clip_frames(step=2, start=0, stop=500))  # 50 s at 5 fps
    sequence = (
        frames[:80]
        + [shifted(f, 30, 10) for f in frames[80:130]]
        + frames[130:180]
        + [rotated(f, 3) for f in frames[180:230]]
        + frames[230:]
    )
    signals = run(module, sequence)
    assert [s.phase for s in signals] == [Phase.START, Phase.END, Phase.START, Phase.END]
    dx, dy = signals[0].attributes["shift_px"]
    assert dx == pytest.approx(30, abs=6) and dy == pytest.approx(10, abs=6)
    assert run(moved(duration_s=0), frames) == []
