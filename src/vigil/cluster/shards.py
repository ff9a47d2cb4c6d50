"""Cameras sharded across processes on one machine (one GPU).

A thousand cameras at 5 fps are 5,000 frames/s of tracking, modules and event lifecycle, which
is Python work under one interpreter lock: a GPU worker's CPU side stops scaling at one core
long before the GPU is busy. Running N processes, each with a subset of the cameras and its own
detector (each its own CUDA context on the same GPU), spreads that work over N cores while the
GPU serves all of them. Which camera goes where is the cluster's weighted rendezvous hashing
(`cluster.assign`) with equal capacities, so shards are balanced and adding a camera moves
few others.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Sequence
from typing import TypeVar

from vigil.cluster.assign import assign

T = TypeVar("T")


def partition(camera_ids: Sequence[str], shards: int) -> list[list[str]]:
    """`camera_ids` split into `shards` lists, each in the given order and none longer than
    an even share (rounded up)."""
    if shards < 1:
        raise ValueError("shards must be at least 1")
    capacity = math.ceil(len(camera_ids) / shards)
    placement = assign(camera_ids, {_name(shard): capacity for shard in range(shards)})
    return [
        [camera_id for camera_id in camera_ids if placement[camera_id] == _name(shard)]
        for shard in range(shards)
    ]


def run_shards(work: Callable[[list[str]], T], camera_ids: Sequence[str], shards: int) -> list[T]:
    """`work(cameras)` in one process per shard, all at once; each shard's result, in order.

    Processes are spawned, not forked: a forked child would inherit the parent's CUDA context
    and threads, which CUDA and the reader threads do not survive. `work` must therefore be a
    module-level function (it is pickled by name).
    """
    parts = [part for part in partition(camera_ids, shards) if part]
    with multiprocessing.get_context("spawn").Pool(len(parts)) as pool:
        return pool.map(work, parts)


def _name(shard: int) -> str:
    return f"shard-{shard}"
