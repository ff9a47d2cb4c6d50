"""Video files through CameraReader: once, looping, offsets, sampling, pacing, damage."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tests.sources.clips import frame_index, write_clip
from tests.sources.readers import Collector, frame_count, read_to_end, steps_ms
from tests.waiting import wait_until
from vigil.domain.frames import now_ms
from vigil.sources import CameraReader


def test_once_delivers_every_frame_when_analysing_at_source_rate(demo_clip: Path) -> None:
    started_ms = now_ms()
    frames, reader = read_to_end(demo_clip, fps=10.0)
    total = frame_count(demo_clip)
    assert len(frames) == total
    assert [f.seq for f in frames] == list(range(total))
    assert set(steps_ms(frames)) == {100}  # 10 fps media time, not decoding speed
    # A file's clock starts at the wall-clock time it was opened.
    assert abs(frames[0].ts_ms - started_ms) < 2000
    image = frames[0].image
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    status = reader.status
    assert reader.finished
    assert (status.frames_read, status.frames_sampled) == (total, total)
    assert (status.height, status.width) == image.shape[:2]
    assert status.last_error is None and not status.online


def test_sampling_follows_media_time(demo_clip: Path) -> None:
    total = frame_count(demo_clip)
    frames, reader = read_to_end(demo_clip, fps=5.0)
    assert abs(len(frames) - total / 2) <= 1
    assert set(steps_ms(frames)) == {200}
    assert reader.status.frames_read == total
    frames, _ = read_to_end(demo_clip, fps=3.0)
    assert abs(len(frames) - total * 0.3) <= 2
    assert 320 <= np.mean(steps_ms(frames)) <= 345


def test_frames_are_bgr(numbered_clip: Path) -> None:
    frames, _ = read_to_end(numbered_clip, fps=10.0)
    lower = frames[0].image[120:]
    # clips.frame_image paints red = 128 and blue as a gradient (OpenCV order: B, G, R).
    assert abs(float(lower[..., 2].mean()) - 128) < 8
    assert float(lower[..., 0].std()) > 30
    assert [frame_index(f.image) for f in frames] == list(range(60))


def test_start_offset_seeks_into_the_file(numbered_clip: Path) -> None:
    frames, _ = read_to_end(numbered_clip, fps=10.0, start_offset_s=2.5)
    assert [frame_index(f.image) for f in frames] == list(range(25, 60))


def test_start_offset_past_the_end(numbered_clip: Path) -> None:
    frames, reader = read_to_end(numbered_clip, fps=10.0, start_offset_s=65.0)
    assert frames == []
    assert "past the end" in (reader.status.last_error or "")
    # Looping cameras wrap around instead: 65 s into a 6 s clip is 5 s in.
    collector = Collector()
    looping = CameraReader(
        "cam", str(numbered_clip), 10.0, collector, start_offset_s=65.0, realtime=False
    )
    looping.start()
    wait_until(lambda: len(collector) >= 3, 10, what="frames from a looping reader")
    looping.stop()
    assert frame_index(collector.frames[0].image) == 50


def test_loop_restarts_and_time_keeps_increasing(numbered_clip: Path) -> None:
    collector = Collector()
    reader = CameraReader(
        "cam", str(numbered_clip), 10.0, collector, start_offset_s=4.0, realtime=False
    )
    reader.start()
    wait_until(lambda: len(collector) >= 150, 30, what="150 frames")
    reader.stop()
    frames = collector.frames[:150]
    indices = [frame_index(f.image) for f in frames]
    assert indices[:25] == [*range(40, 60), *range(5)]
    assert indices[20:140] == list(range(60)) * 2
    assert set(steps_ms(frames)) == {100}
    assert [f.seq for f in frames] == list(range(150))
    assert reader.status.reconnects == 0 and reader.status.last_error is None


def test_timestamp_jumps_neither_stall_nor_burst(tmp_path: Path) -> None:
    # Three MPEG-TS segments glued together like a camera's recording: times 0-1 s, then
    # 1000-1001 s (a big jump forward), then 0-1 s again (a jump back).
    jumpy = tmp_path / "jumpy.ts"
    segments = [
        write_clip(
            tmp_path / f"{i}.ts",
            frames=10,
            first_index=i * 10,
            start_s=start,
            container_format="mpegts",
        )
        for i, start in enumerate((0.0, 1000.0, 0.0))
    ]
    jumpy.write_bytes(b"".join(s.read_bytes() for s in segments))

    started = time.monotonic()
    frames, reader = read_to_end(jumpy, fps=10.0, realtime=True)
    assert time.monotonic() - started < 6  # 3 s of media at media speed, no stall at a jump
    assert [frame_index(f.image) for f in frames] == list(range(30))
    assert set(steps_ms(frames)) == {100}
    assert reader.status.last_error is None

    halved, _ = read_to_end(jumpy, fps=5.0)
    assert len(halved) == 15  # no burst after the forward jump, no gap after the backward one
    assert set(steps_ms(halved)) == {200}


def test_realtime_paces_files_at_media_speed(numbered_clip: Path) -> None:
    collector = Collector()
    reader = CameraReader("cam", str(numbered_clip), 5.0, collector, loop=False, start_offset_s=3.0)
    started = time.monotonic()
    reader.start()
    wait_until(lambda: len(collector) >= 8, 10, what="paced frames")
    assert 7 <= reader.status.input_fps <= 13
    assert reader.join(10)
    elapsed = time.monotonic() - started
    assert 2.0 <= elapsed <= 5.0  # 3 s of media
    assert len(collector) == 15


def test_stop_is_prompt(demo_clip: Path) -> None:
    collector = Collector()
    reader = CameraReader("cam", str(demo_clip), 5.0, collector)
    reader.start()
    wait_until(lambda: len(collector) >= 2, 10, what="first frames")
    assert reader.status.online
    started = time.monotonic()
    reader.stop()
    assert time.monotonic() - started < 1.0
    assert reader.finished and not reader.status.online


def test_random_bytes_named_mp4_fail_clearly(tmp_path: Path) -> None:
    garbage = tmp_path / "camera3.mp4"
    garbage.write_bytes(np.random.default_rng(1).bytes(100_000))
    frames, reader = read_to_end(garbage, fps=5.0)
    assert frames == []
    assert reader.status.last_error == (
        f"cannot open {garbage}: not a readable video file"
        " (Invalid data found when processing input)"
    )


def test_truncated_copy_of_the_demo_clip_fails_clearly(demo_clip: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(demo_clip.read_bytes()[: demo_clip.stat().st_size // 3])
    frames, reader = read_to_end(cut, fps=5.0)
    error = reader.status.last_error or ""
    # With the index at the end the copy does not open at all; with it in front, the
    # frames before the cut play and then the cut is reported.
    assert error.startswith((f"cannot open {cut}: not a readable video", f"{cut} ends at"))
    assert error.endswith(("truncated or corrupt", ")"))
    assert len(frames) < frame_count(demo_clip) / 2


def test_truncated_streaming_mp4_plays_until_the_cut(tmp_path: Path) -> None:
    whole = write_clip(tmp_path / "whole.mp4", frames=60, faststart=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    frames, reader = read_to_end(cut, fps=10.0)
    assert 15 <= len(frames) <= 45
    assert [frame_index(f.image) for f in frames] == list(range(len(frames)))
    assert reader.status.last_error is not None
    assert reader.status.last_error.endswith("the file is truncated or corrupt")


def test_missing_file(tmp_path: Path) -> None:
    frames, reader = read_to_end(tmp_path / "nope.mp4", fps=5.0)
    assert frames == []
    assert reader.status.last_error == f"cannot open {tmp_path / 'nope.mp4'}: no such file"


def test_a_broken_looping_camera_retries_without_crashing(tmp_path: Path) -> None:
    garbage = tmp_path / "broken.mp4"
    garbage.write_bytes(b"\x00" * 5000)
    reader = CameraReader("cam", str(garbage), 5.0, Collector(), backoff_initial_s=0.05)
    reader.start()
    wait_until(lambda: reader.status.last_error is not None, 5, what="an error")
    time.sleep(0.3)  # several retries at 0.05, 0.1, 0.2 s
    assert not reader.finished and not reader.status.online
    reader.stop()
    assert reader.finished


def test_one_broken_camera_does_not_affect_another(tmp_path: Path, numbered_clip: Path) -> None:
    garbage = tmp_path / "bad.mp4"
    garbage.write_bytes(b"\xff" * 10_000)
    bad = CameraReader("bad", str(garbage), 5.0, Collector(), realtime=False)
    good_frames = Collector()
    good = CameraReader("good", str(numbered_clip), 10.0, good_frames, loop=False, realtime=False)
    bad.start()
    good.start()
    assert good.join(30)
    assert len(good_frames) == 60 and good.status.last_error is None
    bad.stop()
    assert bad.status.last_error is not None and bad.status.frames_read == 0


def test_a_failing_callback_does_not_stop_the_camera(numbered_clip: Path) -> None:
    calls: list[int] = []

    def explode(frame: object) -> None:
        calls.append(1)
        raise RuntimeError("pipeline bug")

    reader = CameraReader("cam", str(numbered_clip), 10.0, explode, loop=False, realtime=False)
    reader.start()
    assert reader.join(30)
    assert len(calls) == 60 and reader.status.frames_sampled == 60


def test_bad_settings_are_refused_up_front(numbered_clip: Path) -> None:
    with pytest.raises(ValueError, match="unsupported camera URL"):
        CameraReader("cam", "ftp://cam/x.mp4", 5.0, Collector())
    with pytest.raises(ValueError, match="positive"):
        CameraReader("cam", str(numbered_clip), 0.0, Collector())
    with pytest.raises(ValueError, match="negative"):
        CameraReader("cam", str(numbered_clip), 5.0, Collector(), start_offset_s=-1)
