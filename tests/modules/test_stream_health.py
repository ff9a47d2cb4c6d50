"""Stream health: offline, frozen image and low frame rate, each with its recovery."""

from __future__ import annotations

import numpy as np
import pytest

from tests.modules.synth import camera
from tests.vision.footage import BASE_MS, clip_frames, frame_view, noisy, textured_scene
from vigil.config import ConfigError, TrackerConfig
from vigil.domain.events import Phase
from vigil.domain.frames import Frame, SourceStatus
from vigil.modules.registry import build_modules
from vigil.modules.stream_health import StreamHealthModule
from vigil.pipeline.camera import CameraPipeline

SCENE = textured_scene(31)


def health(**settings: object) -> StreamHealthModule:
    (module,) = build_modules(camera({"stream_health": settings}))
    assert isinstance(module, StreamHealthModule)
    return module


def frames_run(module: StreamHealthModule, frames: list[np.ndarray]) -> list[tuple[int, object]]:
    out = []
    for index, image in enumerate(frames):
        ts = BASE_MS + index * 200
        out.extend((ts, signal) for signal in module.update(frame_view(ts, image)))
    return out


def live(seconds: int, fps: float = 10.0, online: bool = True) -> list[SourceStatus]:
    """Statuses of a camera delivering frames, one per second."""
    return [
        SourceStatus(online=online, input_fps=fps, last_frame_ms=BASE_MS + s * 1000 - 50)
        for s in range(seconds)
    ]


def status_run(
    module: StreamHealthModule, statuses: list[SourceStatus]
) -> list[tuple[int, object]]:
    out = []
    for second, status in enumerate(statuses):
        now = BASE_MS + second * 1000
        out.extend((now - BASE_MS, signal) for signal in module.on_status(status, now))
    return out


# frozen ----------------------------------------------------------------------------------------


def test_repeated_frames_are_frozen_until_the_picture_changes() -> None:
    module = health(frozen_after_s=3)
    stuck = noisy(SCENE, 99)
    frames = [noisy(SCENE, i) for i in range(5)] + [stuck.copy() for _ in range(25)]
    frames += [noisy(SCENE, i) for i in range(5)]
    signals = frames_run(module, frames)
    assert [(s.phase, s.type) for _, s in signals] == [
        (Phase.START, "stream.frozen"),
        (Phase.END, "stream.frozen"),
    ]
    (start_ts, start), (end_ts, end) = signals
    # the same picture from frame 5 (1.0 s); the first repeat is frame 6 (1.2 s)
    assert start_ts - BASE_MS == 1200 + 3000 and start.attributes["frozen_s"] == 3.0
    assert end_ts - BASE_MS == 30 * 200  # the first changed frame ends it
    assert start.key == end.key == ("stream.frozen",) and start.track_id is None


def test_a_still_scene_with_sensor_noise_is_not_frozen() -> None:
    assert frames_run(health(frozen_after_s=1), [noisy(SCENE, i) for i in range(30)]) == []


def test_near_identical_frames_within_the_tolerance_are_frozen() -> None:
    stuck = noisy(SCENE, 1)
    jitter = [np.clip(stuck.astype(np.int16) + (i % 2), 0, 255).astype(np.uint8) for i in range(20)]
    assert [s.phase for _, s in frames_run(health(frozen_after_s=2), jitter)] == [Phase.START]
    assert frames_run(health(frozen_after_s=2, frozen_tolerance=0), jitter) == []


# offline ---------------------------------------------------------------------------------------


def test_offline_after_silence_with_the_reason_and_back_online() -> None:
    module = health(offline_after_s=5)
    down = SourceStatus(
        online=False, input_fps=0.0, last_frame_ms=BASE_MS + 3950,
        last_error="rtsp://cam.example/stream ended the stream", reconnects=2,
    )
    statuses = live(4) + [down] * 10 + live(20)[14:17]
    signals = status_run(module, statuses)
    assert [(at, s.phase, s.type) for at, s in signals] == [
        (9000, Phase.START, "stream.offline"),  # 5 s after the last frame at 3.95 s
        (14000, Phase.END, "stream.offline"),  # frames again
    ]
    start = signals[0][1]
    assert start.attributes == {
        "silent_s": 5.0, "last_error": "rtsp://cam.example/stream ended the stream",
        "reconnects": 2,
    }


def test_a_camera_that_never_connects_and_one_that_stalls_are_offline() -> None:
    never = status_run(health(offline_after_s=3), [SourceStatus()] * 6)
    assert [(at, s.phase) for at, s in never] == [(3000, Phase.START)]
    stalled = [SourceStatus(online=True, input_fps=0.0, last_frame_ms=BASE_MS)] * 6
    assert [(at, s.phase) for at, s in status_run(health(offline_after_s=3), stalled)] == [
        (3000, Phase.START)
    ]


# low frame rate --------------------------------------------------------------------------------


def test_low_fps_after_its_duration_and_recovery() -> None:
    module = health(low_fps_after_s=4, recover_s=2)  # analysis at 5 fps: min 2.5 fps
    statuses = live(3) + live(20, fps=1.5)[3:10] + live(20)[10:16]
    signals = status_run(module, statuses)
    assert [(at, s.phase, s.type) for at, s in signals] == [
        (7000, Phase.START, "stream.low_fps"),
        (12000, Phase.END, "stream.low_fps"),
    ]
    assert signals[0][1].attributes == {"input_fps": 1.5, "min_fps": 2.5}


def test_an_outage_ends_low_fps_and_is_reported_as_offline() -> None:
    module = health(low_fps_after_s=1, offline_after_s=2, min_fps=5)
    slow = live(4, fps=2.0)
    down = [SourceStatus(online=False, last_frame_ms=BASE_MS + 3000)] * 4
    signals = status_run(module, slow + down)
    assert [(s.phase, s.type) for _, s in signals] == [
        (Phase.START, "stream.low_fps"),
        (Phase.END, "stream.low_fps"),
        (Phase.START, "stream.offline"),
    ]
    assert module.stats()["offline"] and not module.stats()["low_fps"]
    assert {s.type for s in module.finish(BASE_MS + 10_000)} == {"stream.offline"}


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"modules\.stream_health\.min_fps"):
        camera({"stream_health": {"min_fps": 0}})


def test_pipeline_turns_status_checks_into_events_without_snapshots() -> None:
    pipeline = CameraPipeline(camera({"stream_health": {"offline_after_s": 2}}), TrackerConfig())
    pipeline.process(Frame("cam", 0, BASE_MS, SCENE), None)
    outputs = []
    for second in range(4):
        status = SourceStatus(online=False, last_frame_ms=BASE_MS)
        outputs.extend(pipeline.check_source(status, BASE_MS + second * 1000))
    ((message, snapshot),) = outputs
    assert message.phase is Phase.START and message.event.type == "stream.offline"
    assert message.event.object is None and snapshot is None


# real footage ----------------------------------------------------------------------------------


def test_frozen_stream_on_the_street_clip() -> None:
    """Real frames: the clip freezes on one picture for 15 s (an encoder that hangs and keeps
    sending its last frame), then plays on. Frozen once, then recovered; the clip alone, with
    people standing about, never looks frozen."""
    frames = list(clip_frames(step=2, start=0, stop=400))
    sequence = frames[:100] + [frames[100]] * 75 + frames[101:]
    signals = frames_run(health(), sequence)  # default: 10 s frozen
    assert [s.phase for _, s in signals] == [Phase.START, Phase.END]
    (start_ts, _), (end_ts, _) = signals
    assert start_ts - BASE_MS == (101 + 50) * 200 and end_ts - BASE_MS == 175 * 200
    assert frames_run(health(frozen_after_s=0.5), frames) == []
