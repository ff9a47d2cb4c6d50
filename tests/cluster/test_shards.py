"""Cameras sharded across processes: every camera in exactly one shard, balanced, stable; and
the real-time load with the fake detector run in two processes at once, each on its share."""

from __future__ import annotations

import math

import pytest

from tests.media import CLIP
from vigil.bench.cameras import LoadSettings, camera_ids
from vigil.bench.sharded import ShardJob, run_sharded_load
from vigil.cluster.shards import partition
from vigil.config import CameraConfig, TrackerConfig


@pytest.mark.parametrize(("cameras", "shards"), [(1000, 4), (10, 3), (2, 4)])
def test_every_camera_is_in_exactly_one_shard_of_at_most_an_even_share(
    cameras: int, shards: int
) -> None:
    ids = camera_ids(cameras)
    parts = partition(ids, shards)
    assert len(parts) == shards
    assert sorted(camera for part in parts for camera in part) == ids
    assert max(len(part) for part in parts) <= math.ceil(cameras / shards)


def test_a_new_camera_moves_few_others_between_shards() -> None:
    # Rendezvous hashing: a restart with one more camera keeps almost every camera where it was
    # (its tracks and counters stay in the same process); only the even-share limit moves some.
    before = partition(camera_ids(400), 4)
    after = partition([*camera_ids(400), "cam-new"], 4)
    where = {camera: shard for shard, part in enumerate(after) for camera in part}
    moved = sum(where[camera] != shard for shard, part in enumerate(before) for camera in part)
    assert moved <= 400 * 0.02


def test_shards_run_in_separate_processes_and_add_up() -> None:
    settings = LoadSettings(cameras=12, camera_fps=5.0, seconds=2.0, warmup_s=1.0)
    job = ShardJob(
        settings=settings,
        template=CameraConfig(id="bench", url=str(CLIP), modules={"zone": {}}),
        tracker=TrackerConfig(),
        detector_fps=1000.0,
        per_call_s=0.0,
        batch=64,
        max_wait_ms=20,
        max_lag_ms=1000,
        clip=CLIP,
        frame_size=(320, 180),
    )
    result = run_sharded_load(job, shards=2)
    shards = result["shards"]
    assert len(shards) == 2 and shards[0]["pid"] != shards[1]["pid"]
    assert sorted(shards[0]["cameras"] + shards[1]["cameras"]) == camera_ids(12)
    assert result["cameras"] == 12
    # Both processes analysed frames: together a real share of the 60 frames/s asked.
    assert result["analysed_fps"] > 0
    assert result["busy_s"]["inference"] > 0 and result["busy_s"]["tracking"] > 0
    assert result["wanted_fps"] == 60.0
