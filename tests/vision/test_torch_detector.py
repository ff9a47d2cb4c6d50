"""The GPU detector (PyTorch, fp16, CUDA) finds what the CPU detector finds on the street clip.
Runs only where torch, torchvision, onnx2torch and a CUDA GPU are present (GPU workers)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import supervision as sv

from tests.media import CLIP
from vigil.config import DetectorConfig
from vigil.pipeline.feeds import decode_clip
from vigil.vision.detector import OnnxDetector


def _cuda() -> bool:
    needed = ("torch", "torchvision", "onnx2torch")
    if any(importlib.util.find_spec(name) is None for name in needed):
        return False
    import torch

    return bool(torch.cuda.is_available())


pytestmark = pytest.mark.skipif(
    not _cuda(), reason="needs torch, torchvision, onnx2torch and a CUDA GPU (GPU workers)"
)


def people(found: sv.Detections) -> int:
    return sum(1 for name in found.data["class_name"] if name == "person")


def test_gpu_detector_matches_the_cpu_detector_on_the_street_clip() -> None:
    from vigil.vision.torch_detector import TorchDetector

    frames = decode_clip(CLIP, (768, 576), limit=16)
    config = DetectorConfig()
    cpu = OnnxDetector(config).detect(frames)
    gpu = TorchDetector(config).detect(frames)  # one batch of 16, fp16
    people_cpu = sum(people(found) for found in cpu)
    people_gpu = sum(people(found) for found in gpu)
    assert people_cpu > 0
    # fp16 moves scores near the threshold: the counts agree within 10 %.
    assert abs(people_gpu - people_cpu) <= max(2, 0.1 * people_cpu)
    for a, b in zip(cpu, gpu, strict=True):
        if len(a) and len(b) and a.confidence is not None:
            # The best box of each frame is found at the same place, within a few pixels.
            best_a = a.xyxy[np.argmax(a.confidence)]
            distances = np.abs(b.xyxy - best_a).max(1)
            assert distances.min() < 6
