"""Defocus / blur: sharpness far below the learned baseline for a while."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.modules.synth import camera
from tests.vision.footage import BASE_MS, clip_frames, frame_view, noisy, textured_scene
from vigil.config import ConfigError
from vigil.domain.events import Phase
from vigil.modules.registry import build_modules
from vigil.modules.tamper_defocus import TamperDefocusModule, sharpness
from vigil.vision.pixels import small_gray

SCENE = textured_scene(7)


def defocus(**settings: object) -> TamperDefocusModule:
    (module,) = build_modules(camera({"tamper_defocus": settings}))
    assert isinstance(module, TamperDefocusModule)
    return module


def run(module: TamperDefocusModule, frames: list[np.ndarray], start: int = 0) -> list:
    signals = []
    for index, image in enumerate(frames):
        signals.extend(module.update(frame_view(BASE_MS + (start + index) * 200, image)))
    return signals


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma)


def seq(image: np.ndarray, count: int, seed: int = 0) -> list[np.ndarray]:
    return [noisy(image, seed + i) for i in range(count)]


def test_sharpness_falls_with_blur_and_ignores_brightness() -> None:
    sharp = sharpness(small_gray(SCENE))
    assert sharpness(small_gray(blur(SCENE, 4))) < 0.3 * sharp
    dim = (SCENE * 0.4).astype(np.uint8)
    assert sharpness(small_gray(dim)) == pytest.approx(sharp, rel=0.1)


def test_defocus_after_learning_with_start_attributes_and_recovery() -> None:
    module = defocus(learn_s=2, duration_s=2, recover_s=1)
    frames = seq(SCENE, 15) + seq(blur(SCENE, 5), 20) + seq(SCENE, 10)
    signals = run(module, frames)
    assert [(s.phase, s.type) for s in signals] == [
        (Phase.START, "tamper.defocus"),
        (Phase.END, "tamper.defocus"),
    ]
    start = signals[0]
    assert start.key == ("defocus",) and start.class_name is None
    assert start.attributes["sharpness_ratio"] < 0.5
    assert start.attributes["baseline"] == pytest.approx(module.baseline, rel=0.05)
    assert module.stats()["learning"] is False and module.stats()["events"] == 1


def test_nothing_is_judged_while_learning() -> None:
    # blurred from the start: that is the baseline, so no event
    assert run(defocus(learn_s=2, duration_s=1), seq(blur(SCENE, 5), 30)) == []


def test_dimming_and_short_blur_are_not_defocus() -> None:
    module = defocus(learn_s=2, duration_s=3)
    dim = (SCENE * 0.35).astype(np.uint8)
    frames = seq(SCENE, 15) + seq(dim, 25) + seq(blur(SCENE, 5), 10) + seq(SCENE, 5)
    assert run(module, frames) == []


def test_blank_frames_are_left_to_tamper_covered() -> None:
    module = defocus(learn_s=2, duration_s=1)
    black = np.zeros_like(SCENE)
    assert run(module, seq(SCENE, 15) + seq(black, 20)) == []


def test_long_blur_is_accepted_as_the_new_normal() -> None:
    module = defocus(learn_s=2, duration_s=1, relearn_after_s=4)
    frames = seq(SCENE, 15) + seq(blur(SCENE, 5), 40)
    signals = run(module, frames)
    assert [s.phase for s in signals] == [Phase.START, Phase.END]
    assert signals[1].attributes == {"relearned": True}
    assert module.baseline is not None  # learned again, from the blurred view
    assert module.baseline < 0.5 * sharpness(small_gray(SCENE))


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"modules\.tamper_defocus\.max_ratio"):
        camera({"tamper_defocus": {"max_ratio": 1}})


def test_defocus_on_the_street_clip() -> None:
    """Real frames: a strong blur (σ = 3 px, a turned focus ring) is reported once and ends
    when the picture is sharp again; a slight one (σ = 1 px, soft compression) is not."""
    module = defocus()  # defaults: 10 s learning, 10 s of blur, 3 s to recover
    frames = list(clip_frames(step=2, start=0, stop=400))  # 40 s at 5 fps
    sequence = frames[:60] + [blur(f, 3) for f in frames[60:140]] + frames[140:]
    signals = run(module, sequence)
    assert [s.phase for s in signals] == [Phase.START, Phase.END]
    assert signals[0].attributes["sharpness_ratio"] < 0.5
    slight = defocus()
    assert run(slight, frames[:60] + [blur(f, 1) for f in frames[60:]]) == []
