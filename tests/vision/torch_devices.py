"""Where the tests of the device path (frames held as torch tensors) run: on CPU torch
wherever torch is installed (`pip install -e .[gpu]`; CI does not install it, so they skip
there), and on CUDA on a GPU worker (bench/gpu/) — the same code on both."""

from __future__ import annotations

import importlib.util

import pytest

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
