"""Which worker analyses which camera: weighted rendezvous hashing with per-worker capacity.

Every worker computes the same answer from the same inputs (live workers and their capacities,
enabled cameras), so no coordinator is needed; leases settle the moments when two workers'
views differ. Rendezvous hashing moves few cameras when the set of workers changes: when a
worker leaves, only its own cameras move (unless capacities force more), and a worker that
joins takes over roughly its share.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping


def _unit(*parts: str) -> float:
    """A uniform number in (0, 1) from `parts`, the same on every machine and Python run."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 1) / (2**64 + 2)


def score(camera_id: str, worker_id: str, capacity: int) -> float:
    """Weighted rendezvous score: a worker with twice the capacity wins about twice as often."""
    return -capacity / math.log(_unit(camera_id, worker_id))


def assign(cameras: Iterable[str], workers: Mapping[str, int]) -> dict[str, str]:
    """camera id → worker id for every camera that fits; `workers` maps worker id → capacity.

    Cameras are placed in an order fixed by their own hash (not by id, so that a batch of
    similarly named cameras does not always claim first pick), each on the highest-scoring
    worker that still has room. Cameras beyond the total capacity stay unassigned.
    """
    room = {worker: capacity for worker, capacity in workers.items() if capacity > 0}
    placement: dict[str, str] = {}
    for camera in sorted(set(cameras), key=lambda camera: (_unit(camera), camera)):
        ranked = sorted(room, key=lambda worker: (-score(camera, worker, workers[worker]), worker))
        for worker in ranked:
            if room[worker] > 0:
                placement[camera] = worker
                room[worker] -= 1
                break
    return placement
