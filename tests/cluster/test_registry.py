"""Heartbeats and leases on a real NATS KV: one holder per camera, revision-checked renewals,
and expiry that frees a silent worker's cameras."""

from __future__ import annotations

import time

from nats.js.kv import KeyValue

from vigil.bus.nats import NatsBus
from vigil.cluster.registry import ClusterRegistry, WorkerInfo

TTL_S = 1.5


def wait_until(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_a_lease_has_one_holder_at_a_time(bus: NatsBus) -> None:
    registry = ClusterRegistry(bus, ttl_s=30)
    first = registry.acquire("cam-a", "w1")
    assert first is not None
    assert registry.acquire("cam-a", "w2") is None
    assert registry.owner("cam-a") == "w1"
    renewed = registry.renew("cam-a", "w1", first)
    assert renewed is not None and renewed > first
    # A renewal at a revision the holder no longer has fails: someone else wrote since.
    assert registry.renew("cam-a", "w1", first) is None
    registry.release("cam-a", renewed)
    assert registry.owner("cam-a") is None
    assert registry.acquire("cam-a", "w2") is not None
    assert registry.owner("cam-a") == "w2"


def test_releasing_a_lost_lease_leaves_the_new_holder_alone(bus: NatsBus) -> None:
    registry = ClusterRegistry(bus, ttl_s=30)
    old = registry.acquire("cam-b", "w1")
    assert old is not None
    registry.release("cam-b", old)
    new = registry.acquire("cam-b", "w2")
    assert new is not None
    registry.release("cam-b", old)  # w1, late, lets go of what it no longer holds
    assert registry.owner("cam-b") == "w2"


def test_an_unrenewed_lease_expires_and_another_worker_takes_it(bus: NatsBus) -> None:
    registry = ClusterRegistry(bus, ttl_s=TTL_S)
    revision = registry.acquire("cam-c", "w1")
    assert revision is not None
    assert wait_until(lambda: registry.acquire("cam-c", "w2") is not None, 10 * TTL_S)
    assert registry.owner("cam-c") == "w2"
    assert registry.renew("cam-c", "w1", revision) is None


def test_a_lease_that_expires_while_another_worker_asks_for_it_goes_to_that_worker(
    bus: NatsBus,
) -> None:
    """The expiry lands between the refused create and the client's read-back of the key: the
    lease is free then, and taking it must not fail."""
    registry = ClusterRegistry(bus, ttl_s=30)
    assert registry.acquire("cam-d", "w1") is not None
    leases = registry._leases
    read_back = leases._get
    expired: list[str] = []

    async def expire_then_read(key: str, revision: int | None = None) -> KeyValue.Entry:
        if not expired:  # what JetStream's max-age does: the key's messages are gone, no marker
            await leases._js.purge_stream(leases._stream, subject=f"{leases._pre}{key}")
            expired.append(key)
        return await read_back(key, revision)

    leases._get = expire_then_read  # type: ignore[method-assign]
    assert registry.acquire("cam-d", "w2") is not None
    assert expired == ["cam-d"]
    assert registry.owner("cam-d") == "w2"


def test_a_silent_worker_disappears_from_the_live_set(bus: NatsBus) -> None:
    registry = ClusterRegistry(bus, ttl_s=TTL_S)
    assert registry.workers() == {}
    registry.heartbeat(WorkerInfo(id="w1", capacity=4, cameras=["cam-a"]))
    registry.heartbeat(WorkerInfo(id="w2", capacity=8))
    live = registry.workers()
    assert set(live) == {"w1", "w2"}
    assert live["w1"].capacity == 4 and live["w1"].cameras == ["cam-a"]
    registry.leave("w2")
    assert set(registry.workers()) == {"w1"}

    def only_beating_worker_left() -> bool:
        registry.heartbeat(WorkerInfo(id="w3", capacity=1))
        return set(registry.workers()) == {"w3"}

    assert wait_until(only_beating_worker_left, 10 * TTL_S)
