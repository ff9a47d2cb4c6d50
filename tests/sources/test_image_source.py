"""A still image repeated as a camera stream."""

from __future__ import annotations

import time
from pathlib import Path

from tests.sources.clips import frame_index
from tests.sources.readers import Collector, read_to_end, steps_ms
from tests.waiting import wait_until
from vigil.sources import CameraReader


def test_still_image_repeats_at_the_analysis_rate(still_image: Path) -> None:
    collector = Collector()
    reader = CameraReader("door", still_image.as_uri(), 10.0, collector)
    reader.start()
    time.sleep(1.0)
    reader.stop()
    frames = collector.frames
    assert 6 <= len(frames) <= 14
    assert set(steps_ms(frames)) == {100}
    assert all(frame_index(f.image) == 7 for f in frames)
    assert frames[0].image.shape == (240, 320, 3)
    # Each frame owns its pixels: blurring one in place must not touch the others.
    frames[0].image[:] = 0
    assert frames[1].image.any()


def test_still_image_once(still_image: Path) -> None:
    frames, reader = read_to_end(still_image, fps=2.0)
    assert len(frames) == 1
    assert reader.status.last_error is None
    assert (reader.status.width, reader.status.height) == (320, 240)


def test_unreadable_image(tmp_path: Path) -> None:
    fake = tmp_path / "face.jpg"
    fake.write_text("not a picture")
    collector = Collector()
    reader = CameraReader("door", str(fake), 5.0, collector, backoff_initial_s=0.05)
    reader.start()
    wait_until(lambda: reader.status.last_error is not None, 5, what="an error")
    reader.stop()
    assert reader.status.last_error == f"cannot open {fake}: not a readable image"
    assert len(collector) == 0
