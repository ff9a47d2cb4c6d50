"""Frames kept on the device: letterboxing torch tensors into the detector's batch, and the
torch detector fed tensors, give what the host path gives. Run on CPU torch (the same code as on
a GPU); skipped where torch is not installed (it is needed on GPU workers only)."""

from __future__ import annotations

import importlib.util

import cv2
import numpy as np
import pytest

from tests.media import CLIP
from tests.vision.torch_devices import DEVICES, NEEDS_TORCH
from vigil.config import DetectorConfig
from vigil.pipeline.feeds import decode_clip
from vigil.vision.boxes import letterbox_into

pytestmark = NEEDS_TORCH


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    street = decode_clip(CLIP, (768, 576), limit=6)
    # Two sizes in one batch, as when cameras send different sub-stream resolutions.
    return street[:4] + [cv2.resize(frame, (640, 360)) for frame in street[4:]]


@pytest.mark.parametrize("device", DEVICES)
def test_device_letterbox_matches_the_host_letterbox(
    frames: list[np.ndarray], device: str
) -> None:
    import torch

    from vigil.vision.tensor_frames import letterbox_tensors

    size, pad = 416, (104, 116, 124)
    canvas = np.empty((len(frames), size, size, 3), dtype=np.uint8)
    canvas[:] = pad
    host_boxes = [letterbox_into(frame, canvas[i]) for i, frame in enumerate(frames)]
    tensors = [torch.from_numpy(frame).to(device) for frame in frames]
    batch, boxes = letterbox_tensors(tensors, size, pad)
    assert batch.device.type == device  # letterboxed where the frames are
    assert boxes == host_boxes  # boxes map back to the frame exactly as on the host path
    on_host = batch.cpu().numpy()
    difference = np.abs(on_host.astype(int) - canvas.astype(int))
    assert difference.max() <= 1  # cv2's fixed-point bilinear against torch's float one
    assert np.all(on_host[:, :40] == pad)  # the padding of 576-row frames is untouched


@pytest.mark.skipif(
    importlib.util.find_spec("onnx2torch") is None, reason="needs onnx2torch (GPU workers)"
)
def test_torch_detector_finds_the_same_people_from_tensors_as_from_arrays(
    frames: list[np.ndarray],
) -> None:
    import torch

    from vigil.vision.detector import OnnxDetector
    from vigil.vision.torch_detector import TorchDetector

    detector = TorchDetector(DetectorConfig(), device="cpu")
    from_arrays = detector.detect(frames)
    from_tensors = detector.detect([torch.from_numpy(frame) for frame in frames])
    reference = OnnxDetector(DetectorConfig()).detect(frames)
    assert sum(len(found) for found in reference) > 0
    for host, device, onnx in zip(from_arrays, from_tensors, reference, strict=True):
        assert len(device) == len(host)
        if len(host):
            # Pixels differ by at most one level: boxes move by a fraction of a pixel.
            assert np.abs(np.sort(device.xyxy, 0) - np.sort(host.xyxy, 0)).max() < 2.0
        # onnx2torch on CPU in fp32 is the ONNX model: the same objects as onnxruntime finds.
        assert abs(len(host) - len(onnx)) <= 1
