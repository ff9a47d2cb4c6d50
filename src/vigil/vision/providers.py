"""Which onnxruntime execution providers run the detector: CPU, CUDA, or TensorRT.

The CUDA and TensorRT providers come with the `onnxruntime-gpu` package (docs/deployment.md).
TensorRT compiles the model into an engine for the card the first time it sees an input shape,
which takes minutes; the engine cache keeps those engines on disk so a restarted worker starts
in seconds. The batch dimension gets one optimisation profile from 1 to `max_batch` frames, so
a batch of any size reuses the same engine instead of compiling another.
"""

from __future__ import annotations

from typing import Any

import onnxruntime as ort

from vigil.config import DetectorConfig

_NAMES = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
}


# The batch TensorRT tunes its kernels for; larger and smaller ones still run on the engine.
_TYPICAL_BATCH = 256


class ProviderError(RuntimeError):
    """The configured provider is not in this onnxruntime build."""


def execution_providers(
    config: DetectorConfig, input_name: str, max_batch: int
) -> list[str | tuple[str, dict[str, Any]]]:
    """Providers in order of preference for `config.provider`, each falling back to the next."""
    wanted = _NAMES[config.provider]
    available = ort.get_available_providers()
    if wanted not in available:
        raise ProviderError(
            f"detector.provider {config.provider!r} needs {wanted}, which this onnxruntime lacks "
            f"(it has {', '.join(available)}); install onnxruntime-gpu on GPU workers"
        )
    providers: list[str | tuple[str, dict[str, Any]]] = []
    if config.provider == "tensorrt":
        size = config.input_size
        shape = f"{input_name}:{{}}x3x{size}x{size}"
        cache = str(config.tensorrt_cache)
        providers.append(
            (
                wanted,
                {
                    "trt_fp16_enable": True,
                    "trt_engine_cache_enable": True,
                    "trt_engine_cache_path": cache,
                    "trt_timing_cache_enable": True,
                    "trt_timing_cache_path": cache,
                    "trt_profile_min_shapes": shape.format(1),
                    "trt_profile_opt_shapes": shape.format(min(_TYPICAL_BATCH, max_batch)),
                    "trt_profile_max_shapes": shape.format(max_batch),
                },
            )
        )
    if config.provider in ("tensorrt", "cuda"):
        providers.append(("CUDAExecutionProvider", {"cudnn_conv_algo_search": "HEURISTIC"}))
    providers.append("CPUExecutionProvider")
    return providers
