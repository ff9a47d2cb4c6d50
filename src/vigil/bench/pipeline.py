"""`vigil bench pipeline`: end-to-end analysed frames/s against the detector alone on the
same decoded frames at the same batch size (the ratio is what docs/benchmarks.md tracks)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import av
import numpy as np

from vigil.cli.analyze import analyze_video
from vigil.config import VigilConfig
from vigil.vision.detector import OnnxDetector


def decode_all(video: Path) -> list[np.ndarray]:
    with av.open(str(video)) as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


def detector_only_fps(config: VigilConfig, frames: list[np.ndarray]) -> float:
    detector = OnnxDetector(config.detector)
    batch = config.batching.max_batch
    detector.detect(frames[:batch])  # warm-up: the first run allocates and optimises
    started = time.perf_counter()
    for start in range(0, len(frames), batch):
        detector.detect(frames[start : start + batch])
    return len(frames) / (time.perf_counter() - started)


def bench_pipeline(video: Path, config: VigilConfig) -> dict[str, Any]:
    frames = decode_all(video)
    with av.open(str(video)) as container:
        native_fps = float(container.streams.video[0].average_rate or 25)
    detector_fps = detector_only_fps(config, frames)
    summary = analyze_video(video, config, native_fps)
    pipeline_fps = summary["frames"] / summary["seconds"]
    return {
        "video": str(video),
        "frames": len(frames),
        "pipeline_frames": summary["frames"],
        "batch": config.batching.max_batch,
        "detector_only_fps": round(detector_fps, 2),
        "pipeline_fps": round(pipeline_fps, 2),
        "ratio": round(pipeline_fps / detector_fps, 3),
        "events": summary["events"],
        "tracks": summary["tracks"],
    }
