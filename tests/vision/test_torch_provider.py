"""`detector.provider: torch` builds the PyTorch detector, and refuses with a message naming
what is missing where it cannot run: torch absent (CI), or no CUDA GPU."""

from __future__ import annotations

import pytest

from tests.vision.torch_devices import has_cuda
from vigil.config import ConfigError, DetectorConfig, parse_config
from vigil.runtime import build_detector
from vigil.vision.detector import ModelError, OnnxDetector


@pytest.mark.skipif(has_cuda(), reason="on a CUDA GPU the torch detector is built")
def test_the_torch_provider_without_a_gpu_is_refused_with_the_reason() -> None:
    with pytest.raises(ModelError, match=r"torch|onnx2torch|CUDA"):
        build_detector(DetectorConfig(provider="torch"))


def test_the_default_provider_builds_the_onnxruntime_detector() -> None:
    assert isinstance(build_detector(DetectorConfig()), OnnxDetector)


def test_an_unknown_provider_is_refused_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"detector\.provider"):
        parse_config({"detector": {"provider": "pytorch"}})
