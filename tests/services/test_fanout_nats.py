"""Two API nodes' fan-out hubs on one real NATS server: each node subscribes to the subjects
its subscribers need (per tenant and camera), so an event reaches only the nodes that have a
subscriber for it, once each, and no subscriber sees another tenant's or camera's events."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.conftest import build_event
from vigil.bus.nats import NatsBus
from vigil.domain.events import EventMessage, Phase
from vigil.domain.frames import now_ms
from vigil.fanout import FanoutHub, StreamKey, Subscriber
from vigil.fanout.feed import NatsFeed
from vigil.services.nats import NatsServer


@pytest.fixture(scope="module")
def nats_url() -> Iterator[str]:
    directory = Path(tempfile.mkdtemp(prefix="vigil-test-fanout-"))
    try:
        with NatsServer(directory / "nats") as server:
            yield server.url
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def ids(subscriber: Subscriber) -> list[str]:
    import json

    return [
        json.loads(line.removeprefix("data: "))["id"]
        for line in subscriber.drain().split("\n")
        if line.startswith("data: ")
    ]


def test_two_api_nodes_get_only_the_subjects_their_subscribers_need(nats_url: str) -> None:
    node_a, node_b, engine = (NatsBus(nats_url, prefix="fan") for _ in range(3))

    async def scenario() -> None:
        hub_a = FanoutHub(node_a, keepalive_s=lambda: 15.0)
        hub_b = FanoutHub(node_b, keepalive_s=lambda: 15.0)
        gate = await hub_a.join(
            StreamKey(frozenset({"alpha"}), frozenset({"alpha:gate"})),
            user="a1",
            tenant="alpha",
            credential=None,
        )
        alpha = await hub_a.join(
            StreamKey(frozenset({"alpha"}), None), user="a2", tenant="alpha", credential=None
        )
        bravo = await hub_b.join(
            StreamKey(frozenset({"bravo"}), None), user="b1", tenant="bravo", credential=None
        )
        feed_a, feed_b = hub_a._feed, hub_b._feed
        assert isinstance(feed_a, NatsFeed) and isinstance(feed_b, NatsFeed)
        assert feed_a.subjects == {"fan.events.alpha.alpha=gate", "fan.events.alpha.>"}
        assert feed_b.subjects == {"fan.events.bravo.>"}
        published = {}
        cameras = (("alpha", "alpha:gate"), ("alpha", "alpha:dock"), ("bravo", "bravo:gate"))
        for tenant, camera in cameras:
            event = build_event(tenant=tenant, camera_id=camera, start_ms=now_ms())
            published[(tenant, camera)] = event.id
            await asyncio.to_thread(engine.publish, EventMessage(phase=Phase.START, event=event))
        deadline = asyncio.get_running_loop().time() + 10
        while hub_a.delivered < 3 or hub_b.delivered < 1:
            assert asyncio.get_running_loop().time() < deadline, (hub_a.delivered, hub_b.delivered)
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # a duplicate or a stray would have arrived by now
        # Node A received alpha's two events once each (overlapping subjects deliver once);
        # node B only bravo's, though bravo's camera has the same name in its own namespace.
        assert (hub_a.events, hub_b.events) == (2, 1)
        assert ids(gate) == [published[("alpha", "alpha:gate")]]
        assert sorted(ids(alpha)) == sorted(
            [published[("alpha", "alpha:gate")], published[("alpha", "alpha:dock")]]
        )
        assert ids(bravo) == [published[("bravo", "bravo:gate")]]
        hub_a.leave(alpha)  # the tenant-wide subject goes; the camera's stays
        assert feed_a.subjects == {"fan.events.alpha.alpha=gate"}
        for subscriber in (gate,):
            hub_a.leave(subscriber)
        hub_b.leave(bravo)
        assert hub_a._feed is None and hub_b._feed is None

    try:
        asyncio.run(scenario())
    finally:
        for bus in (node_a, node_b, engine):
            bus.close()
