"""Lens covered / blackout: a structureless image for a while, and its recovery."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.modules.synth import camera
from tests.vision.footage import BASE_MS, clip_frames, frame_view, noisy, textured_scene
from vigil.config import ConfigError
from vigil.domain.events import Phase
from vigil.modules.registry import build_modules
from vigil.modules.tamper_covered import TamperCoveredModule

SCENE = textured_scene(5)
BLACK = np.zeros_like(SCENE)
WHITE = np.full_like(SCENE, 235)


def covered(**settings: object) -> TamperCoveredModule:
    (module,) = build_modules(camera({"tamper_covered": settings}))
    assert isinstance(module, TamperCoveredModule)
    return module


def run(module: TamperCoveredModule, frames: list[np.ndarray], step_ms: int = 200) -> list:
    signals = []
    for index, image in enumerate(frames):
        signals.extend(module.update(frame_view(BASE_MS + index * step_ms, image)))
    return signals


def seq(image: np.ndarray, count: int, seed: int = 0) -> list[np.ndarray]:
    return [noisy(image, seed + i) for i in range(count)]


def test_blackout_starts_after_the_duration_and_ends_on_recovery() -> None:
    module = covered(duration_s=2, recover_s=1)
    # 2 s normal, 4 s black (with sensor noise), 2 s normal, at 5 fps
    signals = run(module, seq(SCENE, 10) + seq(BLACK, 20) + seq(SCENE, 10))
    assert [(s.phase, s.type) for s in signals] == [
        (Phase.START, "tamper.covered"),
        (Phase.END, "tamper.covered"),
    ]
    start = signals[0]
    assert start.key == ("covered",) and start.track_id is None and start.zone is None
    assert start.attributes["covered_fraction"] == 1.0
    assert start.attributes["brightness"] < 5
    assert module.stats()["covered"] is False and module.stats()["events"] == 1


def test_start_and_end_times() -> None:
    module = covered(duration_s=2, recover_s=1)
    frames = seq(SCENE, 5) + seq(BLACK, 20) + seq(SCENE, 10)
    times = []
    for index, image in enumerate(frames):
        for _ in module.update(frame_view(index * 200, image)):
            times.append(index * 200)
    assert times == [1000 + 2000, 5000 + 1000]  # black from 1.0 s to 5.0 s


def test_a_short_cover_is_ignored() -> None:
    assert run(covered(duration_s=5), seq(SCENE, 5) + seq(BLACK, 20) + seq(SCENE, 5)) == []


def test_a_uniform_bright_image_is_covered_too() -> None:
    assert [s.phase for s in run(covered(duration_s=1), seq(WHITE, 10))] == [Phase.START]


def test_partial_cover_needs_the_configured_share() -> None:
    half = SCENE.copy()
    half[:, : SCENE.shape[1] // 2] = 10  # the left half taped over
    assert run(covered(duration_s=1), seq(half, 10)) == []
    assert [s.phase for s in run(covered(duration_s=1, covered_fraction=0.45), seq(half, 10))] == [
        Phase.START
    ]


def test_finish_ends_an_open_cover() -> None:
    module = covered(duration_s=0)
    run(module, seq(BLACK, 2))
    assert [s.phase for s in module.finish(BASE_MS + 1000)] == [Phase.END]


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"modules\.tamper_covered\.covered_fraction"):
        camera({"tamper_covered": {"covered_fraction": 1.5}})


def hand_over_lens(image: np.ndarray) -> np.ndarray:
    """What a hand on the lens leaves: a dark, structureless smear of the scene's light."""
    height, width = image.shape[:2]
    smear = cv2.GaussianBlur(cv2.resize(image, (48, 36), interpolation=cv2.INTER_AREA), (0, 0), 3)
    return (cv2.resize(smear, (width, height)) * 0.3).astype(np.uint8)


def test_covered_lens_on_the_street_clip() -> None:
    """Real frames: a black-out and a hand over the lens (the picture dark and smeared) are
    each reported once and end when the picture is back; the clip itself never is."""
    module = covered()  # defaults: 5 s of cover, 2 s to recover
    frames = list(clip_frames(step=2, start=0, stop=300))  # 30 s at 5 fps
    hand = [hand_over_lens(image) for image in frames[80:120]]
    black = [noisy(np.zeros_like(frames[0]), i) for i in range(40)]
    sequence = frames[:50] + black + frames[50:80] + hand + frames[120:]
    signals = run(module, sequence)
    assert [s.phase for s in signals] == [Phase.START, Phase.END, Phase.START, Phase.END]
    assert all(s.attributes["covered_fraction"] >= 0.8 for s in signals[::2])
    assert run(covered(duration_s=0), frames) == []
