"""Face redaction on the device path: a frame held as a torch tensor is redacted where it is,
and the result matches the host path (CPU torch here, the same code as on a GPU). Red line:
afterwards the face detector finds no face. Skipped where torch is not installed."""

from __future__ import annotations

import numpy as np
import pytest

from tests.vision.torch_devices import DEVICES, NEEDS_TORCH, face_detector, face_photo
from vigil.privacy.redact import redact_faces, redact_regions, regions
from vigil.vision.faces import FaceDetector

pytestmark = NEEDS_TORCH


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return face_detector()


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return face_photo()


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union)


@pytest.mark.parametrize("on", DEVICES)
def test_faces_found_on_a_tensor_are_those_found_on_the_array(
    detector: FaceDetector, photo: np.ndarray, on: str
) -> None:
    import torch

    host = detector.detect(photo)
    device = detector.detect_tensor(torch.from_numpy(photo).to(on))
    assert len(host) >= 1, "the test photo must show faces to be meaningful"
    assert len(device) == len(host)
    for box in host:
        assert max(iou(box, other) for other in device) > 0.8


@pytest.mark.parametrize("on", DEVICES)
@pytest.mark.parametrize("solid", [False, True])
def test_device_redaction_matches_the_host_redaction(
    detector: FaceDetector, photo: np.ndarray, solid: bool, on: str
) -> None:
    import torch

    from vigil.privacy.redact_tensor import redact_regions_tensor

    faces = detector.detect(photo)
    host = photo.copy()
    redact_regions(host, faces, solid=solid)
    tensor = torch.from_numpy(photo.copy()).to(on)
    assert redact_regions_tensor(tensor, faces, solid=solid) == len(faces)
    device = tensor.cpu().numpy()
    outside = np.ones(photo.shape[:2], dtype=bool)
    for left, top, right, bottom in regions(faces, photo.shape[1], photo.shape[0]):
        outside[top:bottom, left:right] = False
        difference = np.abs(device[top:bottom, left:right].astype(int)
                            - host[top:bottom, left:right].astype(int))
        # The 3×3 mosaic's cells average slightly different pixels at their edges (cv2 weighs
        # partial pixels, torch's area mode does not): a few levels, never a visible detail.
        assert difference.mean() < 3.0
        original = photo[top:bottom, left:right].astype(int)
        assert np.abs(device[top:bottom, left:right].astype(int) - original).mean() > 5.0
    assert np.array_equal(device[outside], photo[outside])  # nothing else is touched


@pytest.mark.parametrize("on", DEVICES)
def test_a_redacted_tensor_shows_no_detectable_face(
    detector: FaceDetector, photo: np.ndarray, on: str
) -> None:
    import torch

    from vigil.privacy.redact_tensor import redact_faces_tensor

    tensor = torch.from_numpy(photo.copy()).to(on)
    redacted = redact_faces_tensor(tensor, detector)
    assert redacted >= len(detector.detect(photo))
    assert len(detector.detect(tensor.cpu().numpy())) == 0  # judged by the host detector
    host = photo.copy()
    redact_faces(host, detector)
    assert len(detector.detect(host)) == 0
