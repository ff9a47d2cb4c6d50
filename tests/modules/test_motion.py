"""Motion detection: events, masks, samples, and gating of object detection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import supervision as sv

from tests.modules.synth import camera
from tests.vision.footage import (
    BASE_MS,
    clip_frames,
    frame_view,
    noisy,
    textured_scene,
)
from vigil.bus import MemoryBus
from vigil.config import ConfigError, TrackerConfig, parse_config
from vigil.domain.events import Phase
from vigil.domain.frames import Frame
from vigil.modules.motion import MotionModule
from vigil.modules.registry import build_modules
from vigil.pipeline.camera import CameraPipeline
from vigil.pipeline.local_engine import LocalEngine, _Camera
from vigil.privacy.redact import FaceRedactor
from vigil.store import LocalMediaStore

SCENE = textured_scene(3)


def motion(**settings: object) -> MotionModule:
    (module,) = build_modules(camera({"motion": settings}))
    assert isinstance(module, MotionModule)
    return module


def with_square(image: np.ndarray, x: int, y: int, size: int = 60) -> np.ndarray:
    frame = image.copy()
    frame[y : y + size, x : x + size] = (20, 200, 240)
    return frame


def run(module: MotionModule, frames: list[np.ndarray], start_ms: int = 0, step_ms: int = 200):
    signals, samples = [], []
    for index, image in enumerate(frames):
        view = frame_view(start_ms + index * step_ms, image)
        signals.extend(module.update(view))
        samples.extend(module.measure(view))
    return signals, samples


def still(count: int, seed: int = 0) -> list[np.ndarray]:
    return [noisy(SCENE, seed + i) for i in range(count)]


def moving(count: int, seed: int = 100, size: int = 60) -> list[np.ndarray]:
    return [noisy(with_square(SCENE, 40 + 25 * i, 200, size), seed + i) for i in range(count)]


def test_a_still_scene_with_sensor_noise_has_no_motion() -> None:
    signals, samples = run(motion(), still(25))
    assert signals == []
    assert [s.metric for s in samples] == ["motion_fraction"] * 25
    assert max(s.value for s in samples) < 0.001


def test_motion_starts_with_its_area_and_ends_after_the_grace() -> None:
    module = motion(end_after_s=1.0)
    frames = still(5) + moving(10) + still(10, seed=50)
    signals, samples = run(module, frames)
    assert [(s.phase, s.type) for s in signals] == [(Phase.START, "motion"), (Phase.END, "motion")]
    start, end = signals
    assert start.key == end.key and start.track_id is None and start.class_name is None
    # a 60×60 square on 640×480 is 1.2 % of the image; its old and new places both differ
    assert 0.01 <= start.attributes["area"] <= 0.05
    assert end.attributes["peak_area"] >= start.attributes["area"]
    peak = max(s.value for s in samples)
    assert 0.01 <= peak <= 0.06
    # the square stops at frame 15 (3.0 s); its ghost fades from the background, then 1 s of
    # grace: the event lasts the 2 s of motion plus a little more than the grace
    assert 3.0 <= end.attributes["duration_s"] <= 4.2
    assert module.stats()["motion"] is False and module.stats()["events"] == 1


def test_min_duration_and_min_area() -> None:
    assert run(motion(min_duration_s=5), still(3) + moving(10) + still(3))[0] == []
    # a 10×10 square is 0.03 % of the image: below min_area
    assert run(motion(), still(3) + moving(10, size=10))[0] == []
    assert run(motion(min_area=0.0002), still(3) + moving(10, size=10))[0]


def test_masked_areas_are_ignored() -> None:
    band = [[0, 180], [640, 180], [640, 280], [0, 280]]  # where the square moves
    signals, samples = run(motion(masks=[band]), still(3) + moving(10))
    assert signals == [] and max(s.value for s in samples) < 0.001


def test_finish_ends_open_motion() -> None:
    module = motion()
    run(module, still(2) + moving(4))
    assert [s.phase for s in module.finish(5000)] == [Phase.END]
    assert module.finish(6000) == []


def test_frames_without_image_are_ignored() -> None:
    module = motion()
    from tests.modules import synth

    assert module.update(synth.frame(0)) == [] and module.measure(synth.frame(0)) == []


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"modules\.motion\.min_area"):
        camera({"motion": {"min_area": 0}})
    with pytest.raises(ConfigError, match=r"modules\.motion\.masks"):
        camera({"motion": {"masks": [[[0, 0], [1, 1]]]}})
    with pytest.raises(ConfigError, match=r"modules\.motion\.gate"):
        camera({"motion": {"gate": True}})


# gating ----------------------------------------------------------------------------------------


def test_gate_detects_only_frames_that_changed_since_the_last_detected_one() -> None:
    module = motion(gate_detection=True, gate_refresh_s=0)
    frames = still(5) + moving(5) + still(5, seed=40)
    wanted = [module.wants_detection(image, i * 200) for i, image in enumerate(frames)]
    # the first frame, then every moving frame (5-9), then the first still one (the square is
    # gone again); noise alone never wakes the detector
    assert wanted == [True] + [False] * 4 + [True] * 5 + [True] + [False] * 4
    assert module.stats()["frames_skipped"] == 8 and module.stats()["frames_detected"] == 7


def test_gate_catches_slow_motion_by_comparing_with_the_last_detected_frame() -> None:
    module = motion(gate_detection=True, gate_refresh_s=0)
    # 1 px per frame never differs much from the previous frame, but it drifts away from the
    # frame last detected, so detection resumes within a few frames
    frames = [noisy(with_square(SCENE, 100 + i, 200), i) for i in range(40)]
    wanted = [module.wants_detection(image, i * 200) for i, image in enumerate(frames)]
    gaps = np.diff(np.flatnonzero(wanted))
    assert sum(wanted) >= 4 and gaps.max() <= 12


def test_gate_refreshes_and_is_off_by_default() -> None:
    module = motion(gate_detection=True, gate_refresh_s=1.0)
    wanted = [module.wants_detection(image, i * 200) for i, image in enumerate(still(11))]
    assert wanted == [True, False, False, False, False, True] + [False] * 4 + [True]
    assert all(motion().wants_detection(image, i) for i, image in enumerate(still(3)))


def gated_camera(gate: bool) -> CameraPipeline:
    config = camera({"motion": {"gate_detection": gate, "gate_refresh_s": 0}})
    return CameraPipeline(config, TrackerConfig())


def person(x: float) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array([[x, 200, x + 40, 320]], dtype=np.float32),
        confidence=np.array([0.9], dtype=np.float32),
        class_id=np.array([0]),
        data={"class_name": np.array(["person"])},
    )


def test_gated_frames_keep_stationary_objects_tracked() -> None:
    """A person standing still: the scene does not change, the detector is skipped, and the
    tracker keeps the person from the last detected frame instead of losing the track."""
    pipeline = gated_camera(gate=True)
    ids, detected = [], 0
    for i, image in enumerate(still(40)):  # 8 s at 5 fps, longer than the lost-track buffer
        frame = Frame("cam", i, BASE_MS + i * 200, image)
        wants = pipeline.wants_detection(frame)
        detected += wants
        pipeline.process(frame, person(300) if wants else None)
        assert pipeline.live is not None
        ids.append(tuple(pipeline.live.tracks.tracker_id))  # type: ignore[arg-type]
    assert detected == 1
    assert len(set(ids[2:])) == 1 and len(ids[-1]) == 1  # one track, never lost


def test_ungated_camera_wants_every_frame() -> None:
    pipeline = gated_camera(gate=False)
    frames = [Frame("cam", i, BASE_MS + i * 200, image) for i, image in enumerate(still(5))]
    assert all(pipeline.wants_detection(frame) for frame in frames)


class CountingDetector:
    labels = ("person",)

    def __init__(self) -> None:
        self.images = 0

    def detect(self, images: list[np.ndarray]) -> list[sv.Detections]:
        self.images += len(images)
        return [person(300) for _ in images]


class NoFaces:
    def detect(self, image: np.ndarray) -> np.ndarray:
        return np.zeros((0, 5), dtype=np.float32)


def test_engine_skips_inference_for_gated_frames(tmp_path: Path) -> None:
    config = parse_config(
        {
            "cameras": [
                {
                    "id": "cam",
                    "url": "clip.mp4",
                    "modules": {"motion": {"gate_detection": True, "gate_refresh_s": 0}},
                }
            ]
        }
    )
    detector = CountingDetector()
    engine = LocalEngine(
        config,
        detector=detector,
        redactor=FaceRedactor(NoFaces()),  # type: ignore[arg-type]
        bus=MemoryBus(),
        media=LocalMediaStore(tmp_path),
    )
    try:
        pipeline = CameraPipeline(config.cameras[0], config.tracker)
        engine._cameras["cam"] = _Camera(config.cameras[0], None, pipeline)  # type: ignore[arg-type]
        frames = still(6) + moving(4)
        batch = [Frame("cam", i, BASE_MS + i * 200, image) for i, image in enumerate(frames)]
        engine._analyse(batch[:5])
        engine._analyse(batch[5:])
    finally:
        engine.output.close()
    assert detector.images == 1 + 4  # the first frame, then the moving ones
    assert pipeline.frames_analysed == 10
    metrics = engine.pipeline_metrics()
    assert metrics["inference_skipped_frames"].value == 5
    assert metrics["inference_frames"].value == 5


# real footage ----------------------------------------------------------------------------------


def test_motion_on_the_street_clip_with_a_still_spell_and_a_mask() -> None:
    """People walk through the clip: motion starts at once; a 6 s freeze of the picture ends it;
    when the clip resumes it starts again. A mask over everything but the empty lawn (lower
    left) keeps it quiet throughout. The gate skips the detector during the freeze."""
    frames = list(clip_frames(step=2, start=0, stop=200))  # 20 s at 5 fps
    frozen = [frames[50]] * 30  # 6 s of the same picture
    sequence = frames[:50] + frozen + frames[50:]
    module = motion(end_after_s=2.0, gate_detection=True, gate_refresh_s=0)
    lawn_only = motion(masks=[[[0, 0], [768, 0], [768, 576], [300, 576], [300, 330], [0, 300]]])
    signals, quiet, wanted, samples = [], [], [], []
    for i, image in enumerate(sequence):
        ts = BASE_MS + i * 200
        wanted.append(module.wants_detection(image, ts))
        view = frame_view(ts, image)
        signals.extend(module.update(view))
        samples.append(module.measure(view)[0].value)
        quiet.extend(lawn_only.update(view))
    assert [s.phase for s in signals] == [Phase.START, Phase.END, Phase.START]
    assert quiet == []
    assert np.median(samples[:50]) > 0.005  # the walking people
    # the frozen picture, once the background has absorbed the people (a few time constants)
    assert max(samples[70:80]) < 0.002
    assert not any(wanted[51:80])  # no inference on the frozen picture
    assert all(wanted[81:86])  # and again once people move
