"""Where the tests of the device path (frames held as torch tensors) run: on CPU torch
wherever torch is installed (`pip install -e .[gpu]`; CI does not install it, so they skip
there), and on CUDA on a GPU worker (bench/gpu/) — the same code on both."""

from __future__ import annotations

import importlib.util

import cv2
import numpy as np
import pytest

from tests.media import FACE_PHOTO
from vigil.config import PrivacyConfig
from vigil.vision.faces import FaceDetector

NEEDS_TORCH = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="needs torch (installed on GPU workers, docs/deployment.md)",
)


def has_cuda() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not has_cuda(), reason="needs a CUDA GPU")),
]


def face_detector() -> FaceDetector:
    """The face detector redaction uses, at its configured threshold."""
    privacy = PrivacyConfig()
    return FaceDetector(privacy.face_model, privacy.face_threshold)


def face_photo() -> np.ndarray:
    """The bundled photo with faces (BGR)."""
    image = cv2.imread(str(FACE_PHOTO))
    assert image is not None
    return image
