"""Red line: every stored or served image has its faces destroyed.

A street photo with clear faces is fed as a camera. Each snapshot Vigil stores, and the live
view it serves, must show no face that the face detector (at the blurring threshold) can find.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.databases import database_url
from tests.media import FACE_PHOTO
from vigil.config import VigilConfig, parse_camera
from vigil.runtime import build_runtime, start_runtime
from vigil.store import EventQuery
from vigil.vision.faces import FaceDetector


def faces_in(detector: FaceDetector, image: np.ndarray) -> int:
    return len(detector.detect(image))


@pytest.fixture
def face_camera_config(tmp_path: Path) -> VigilConfig:
    photo = cv2.imread(str(FACE_PHOTO))
    height, width = photo.shape[:2]
    config = VigilConfig()
    config.store.url = database_url(tmp_path)
    config.store.media_dir = tmp_path / "media"
    config.cameras = [
        parse_camera(
            {
                "id": "faces",
                "url": str(FACE_PHOTO),
                "analysis_fps": 4,
                "zones": [
                    {"name": "all", "polygon": [[0, 0], [width, 0], [width, height], [0, height]]}
                ],
                "modules": {"zone": {"classes": ["person"], "update_every_s": 1}},
            }
        )
    ]
    return config


def test_snapshots_and_live_view_have_no_detectable_face(face_camera_config: VigilConfig) -> None:
    config = face_camera_config
    detector = FaceDetector(config.privacy.face_model, config.privacy.face_threshold)
    original = cv2.imread(str(FACE_PHOTO))
    assert faces_in(detector, original) >= 1, "the test photo must show faces to be meaningful"

    runtime = build_runtime(config)
    start_runtime(runtime)
    try:
        deadline = time.monotonic() + 60
        events = []
        while time.monotonic() < deadline and not events:
            time.sleep(0.5)
            events = [
                e for e in runtime.store.query_events(EventQuery(limit=100)).items if e.snapshot
            ]
        assert events, "the people in the photo should have produced zone events"
        live = runtime.engine.live_jpeg("faces", overlay=False)
        assert live is not None
        live_image = cv2.imdecode(np.frombuffer(live[0], np.uint8), cv2.IMREAD_COLOR)
        assert faces_in(detector, live_image) == 0, "live view showed a detectable face"
    finally:
        runtime.stop()

    stored = sorted(Path(config.store.media_dir).rglob("*"))
    files = [path for path in stored if path.is_file()]
    assert files
    for path in files:
        image = cv2.imread(str(path))
        # Only whole-frame snapshots are stored: never a crop of a face or a person.
        assert image.shape == original.shape, f"{path} is not a whole-frame snapshot"
        assert faces_in(detector, image) == 0, f"{path} still shows a detectable face"
