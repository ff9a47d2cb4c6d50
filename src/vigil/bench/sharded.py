"""`vigil bench cameras --shards N`: the same real-time load split over N processes, each with
its own share of the cameras, its own batcher and its own detector (cluster/shards.py), and
the shards' figures added up as one worker's."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from vigil.bench.cameras import (
    STAGES,
    LoadSettings,
    PacedDetector,
    camera_ids,
    deadline_batcher,
    run_load,
)
from vigil.cluster.shards import run_shards
from vigil.config import CameraConfig, TrackerConfig
from vigil.pipeline.feeds import SyntheticFeed, decode_clip


@dataclass(frozen=True)
class ShardJob:
    """Everything a shard process needs to build its part of the load (pickled to it)."""

    settings: LoadSettings
    template: CameraConfig
    tracker: TrackerConfig
    detector_fps: float
    per_call_s: float
    batch: int
    max_wait_ms: float
    max_lag_ms: float
    clip: Path
    frame_size: tuple[int, int] = (640, 360)  # the sub-streams' size


def run_sharded_load(job: ShardJob, shards: int) -> dict[str, Any]:
    """The deadline-scheduler run of `job.settings.cameras` cameras over `shards` processes."""
    ids = camera_ids(job.settings.cameras)
    results = run_shards(functools.partial(_shard, job), ids, shards)
    return merge(results, job.settings)


def _shard(job: ShardJob, ids: list[str]) -> dict[str, Any]:
    settings = replace(job.settings, cameras=len(ids))
    frames = decode_clip(job.clip, job.frame_size)
    feeds = [SyntheticFeed(frames, start=i * 7) for i in range(len(ids))]
    batcher = deadline_batcher(job.batch, job.max_wait_ms, job.max_lag_ms)
    detector = PacedDetector(job.detector_fps, job.per_call_s)
    summary = run_load(settings, batcher, feeds, detector, job.template, job.tracker, ids)
    return {**summary, "camera_ids": ids, "pid": os.getpid()}


def merge(shards: list[dict[str, Any]], settings: LoadSettings) -> dict[str, Any]:
    """One worker's figures from its shards': counts and rates add up, lags take the worst."""
    analysed_fps = sum(shard["analysed_fps"] for shard in shards)
    busy = {stage: sum(shard["busy_s"][stage] for shard in shards) for stage in STAGES}
    total_busy = sum(busy.values())
    return {
        "cameras": sum(shard["cameras"] for shard in shards),
        "shards": [
            {"pid": shard["pid"], "cameras": shard["camera_ids"]} for shard in shards
        ],
        "cameras_sustained": sum(shard["cameras_sustained"] for shard in shards),
        "analysed_fps": round(analysed_fps, 1),
        "wanted_fps": round(settings.cameras * settings.camera_fps, 1),
        "lag_p99_s": max(shard["lag_p99_s"] for shard in shards),
        "lag_max_s": max(shard["lag_max_s"] for shard in shards),
        "time_share": {
            stage: round(seconds / total_busy, 3) if total_busy else 0.0
            for stage, seconds in busy.items()
        },
        "busy_s": {stage: round(seconds, 2) for stage, seconds in busy.items()},
    }
