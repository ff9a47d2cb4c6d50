"""Alert rules on a cluster with two API nodes, over a real NATS server and a real store: one
node evaluates at a time, so count windows and cool-downs hold as on a single node; when that
node is cut off, the other takes over, with the cool-downs and the counts the first one left."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from tests.alerts.conftest import build_event, message
from tests.waiting import wait_until
from vigil.alerts.config import AlertsConfig
from vigil.alerts.service import AlertService
from vigil.bus.nats import NatsBus
from vigil.cluster.registry import ClusterRegistry
from vigil.cluster.role import RoleLease
from vigil.domain.frames import now_ms
from vigil.services.nats import NatsServer
from vigil.store import EventStore
from vigil.store import alerts as alert_rows
from vigil.store.alerts import AlertQuery, StoredAlert

T = TypeVar("T")
TTL_S = 1.5
_prefixes = itertools.count()


@dataclass
class Node:
    """An API node's alert evaluation: its own NATS connections, role lease and service."""

    registry_bus: NatsBus
    committed: NatsBus
    role: RoleLease
    alerts: AlertService

    def stop(self) -> None:
        self.alerts.stop()
        self.role.stop()
        self.committed.close()
        self.registry_bus.close()


@pytest.fixture
def cluster(nats_server: NatsServer, store: EventStore) -> Iterator[Callable[..., Node]]:
    prefix = f"alerts{next(_prefixes)}"
    nodes: list[Node] = []

    def start_node(name: str, rules: list[dict[str, Any]]) -> Node:
        registry_bus = NatsBus(nats_server.url, prefix=prefix)
        committed = NatsBus(nats_server.url, prefix=f"{prefix}-committed")
        role = RoleLease(ClusterRegistry(registry_bus, ttl_s=TTL_S), "alerts", name,
                         heartbeat_s=0.3, ttl_s=TTL_S)
        config = AlertsConfig.model_validate({"rules": rules})
        alerts = AlertService(config, store, public_url="http://vigil.test:8080")
        role.start()
        alerts.start(committed, role=role)
        node = Node(registry_bus, committed, role, alerts)
        nodes.append(node)
        return node

    yield start_node
    for node in nodes:
        node.stop()


def stored(store: EventStore) -> list[StoredAlert]:
    return alert_rows.query_alerts(store.engine, AlertQuery(limit=100)).items


def publish_crossings(bus: NatsBus, count: int, camera_id: str = "gate") -> None:
    at = now_ms()
    bus.publish_many([message(build_event(at_ms=at + i, camera_id=camera_id))
                      for i in range(count)])


def unacknowledged(bus: NatsBus) -> int:
    stream = bus.streams()[0][0]
    info = bus.call(bus.js.consumer_info(stream, "alerts"), timeout=10)
    return int(info.num_ack_pending) + int(info.num_pending)


def test_one_node_evaluates_so_counts_see_every_event(
    cluster: Callable[..., Node], store: EventStore
) -> None:
    rules = [{"id": "busy-gate", "classes": ["person"],
              "count": {"at_least": 3, "window_s": 600}}]
    first, second = cluster("api-1", rules), cluster("api-2", rules)
    wait_until(lambda: first.alerts.evaluating or second.alerts.evaluating)
    time.sleep(3 * 0.3)  # a few rounds: the other node must still be standing by
    assert first.alerts.evaluating != second.alerts.evaluating

    publish_crossings(first.committed, 9)
    # Nine crossings on one camera: three full counts, wherever the messages were published.
    alerts = wait_until(lambda: len(items := stored(store)) >= 3 and items)
    time.sleep(0.5)
    assert len(stored(store)) == 3
    assert {alert.match_count for alert in alerts} == {3}
    # Evaluated messages are acknowledged: none comes back, none holds the consumer up.
    wait_until(lambda: unacknowledged(first.committed) == 0)


def test_when_the_evaluating_node_is_cut_off_the_other_takes_over_with_its_cooldowns(
    cluster: Callable[..., Node], store: EventStore
) -> None:
    rules = [
        {"id": "busy-gate", "count": {"at_least": 2, "window_s": 600}},
        {"id": "quiet-hours", "cooldown_s": 600},
    ]
    first = cluster("api-1", rules)
    wait_until(lambda: first.alerts.evaluating)
    second = cluster("api-2", rules)

    publish_crossings(first.committed, 2)
    wait_until(lambda: {a.rule_id for a in stored(store)} == {"busy-gate", "quiet-hours"})

    # The evaluating node loses NATS for its lease (its process frozen, its network cut).
    first.registry_bus.close()
    wait_until(lambda: not first.alerts.evaluating)
    began = time.monotonic()
    wait_until(lambda: second.alerts.evaluating, timeout=10 * TTL_S)
    taken_over_s = time.monotonic() - began
    assert taken_over_s < 10 * TTL_S

    publish_crossings(second.committed, 2)
    wait_until(lambda: sum(a.rule_id == "busy-gate" for a in stored(store)) == 2)
    time.sleep(0.5)
    # The cool-down of the rule that fired before the take-over still holds.
    assert sum(a.rule_id == "quiet-hours" for a in stored(store)) == 1


def test_the_node_taking_over_counts_on_where_the_other_stopped(
    cluster: Callable[..., Node], store: EventStore
) -> None:
    rules = [{"id": "busy-gate", "count": {"at_least": 3, "window_s": 600}}]
    first = cluster("api-1", rules)
    wait_until(lambda: first.alerts.evaluating)
    second = cluster("api-2", rules)
    at = now_ms()
    crossings = [build_event(at_ms=at + i) for i in range(3)]

    # Two crossings stored (the sink commits before it republishes), evaluated by the first.
    store.upsert_events(crossings[:2])
    first.committed.publish_many([message(event) for event in crossings[:2]])
    wait_until(lambda: unacknowledged(first.committed) == 0)
    assert stored(store) == []

    first.registry_bus.close()
    wait_until(lambda: second.alerts.evaluating, timeout=10 * TTL_S)
    store.upsert_events(crossings[2:])
    second.committed.publish_many([message(crossings[2])])
    # The third crossing completes the count the first node had begun.
    alerts = wait_until(lambda: stored(store))
    assert [(alert.event_id, alert.match_count) for alert in alerts] == [(crossings[2].id, 3)]
