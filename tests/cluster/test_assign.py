"""Placement of cameras on workers: balanced by capacity, stable when workers come and go."""

from __future__ import annotations

from collections import Counter

from vigil.cluster.assign import assign

CAMERAS = [f"cam-{i:03d}" for i in range(300)]


def test_every_camera_is_placed_and_capacity_is_respected() -> None:
    workers = {"w1": 100, "w2": 100, "w3": 50, "w4": 60}
    placement = assign(CAMERAS, workers)
    assert set(placement) == set(CAMERAS)
    load = Counter(placement.values())
    assert all(load[worker] <= capacity for worker, capacity in workers.items())


def test_load_follows_capacity() -> None:
    placement = assign(CAMERAS, {"big": 1000, "small": 500})
    load = Counter(placement.values())
    # Weighted rendezvous: twice the capacity, about twice the cameras (binomial spread).
    assert 170 <= load["big"] <= 230, load


def test_a_lost_worker_moves_only_its_own_cameras() -> None:
    workers = {"w1": 1000, "w2": 1000, "w3": 1000}
    before = assign(CAMERAS, workers)
    after = assign(CAMERAS, {"w1": 1000, "w3": 1000})
    moved = {camera for camera in CAMERAS if before[camera] != after[camera]}
    assert moved == {camera for camera, worker in before.items() if worker == "w2"}


def test_a_new_worker_takes_its_share_from_the_others_only() -> None:
    before = assign(CAMERAS, {"w1": 1000, "w2": 1000})
    after = assign(CAMERAS, {"w1": 1000, "w2": 1000, "w3": 1000})
    moved = [camera for camera in CAMERAS if before[camera] != after[camera]]
    assert all(after[camera] == "w3" for camera in moved)
    assert 70 <= len(moved) <= 130  # about a third


def test_cameras_beyond_total_capacity_wait_unassigned() -> None:
    placement = assign(CAMERAS[:10], {"w1": 3, "w2": 4})
    assert len(placement) == 7
    assert Counter(placement.values()) == {"w1": 3, "w2": 4}
    assert assign(CAMERAS[:10], {}) == {}


def test_the_answer_does_not_depend_on_input_order() -> None:
    workers = {"w1": 5, "w2": 7, "w3": 9}
    assert assign(CAMERAS[:20], workers) == assign(
        list(reversed(CAMERAS[:20])), dict(reversed(list(workers.items())))
    )
