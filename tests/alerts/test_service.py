"""The alert service over a real store (SQLite or PostgreSQL) and a real webhook receiver:
what fires is stored once, every delivery attempt is recorded, retries back off, a slow action
blocks nothing else, and rules added through the API take effect at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest

from tests.alerts.conftest import BASE_MS, Clock, build_event, message, rule
from tests.alerts.receivers import free_port, webhook_receiver
from tests.waiting import wait_until
from vigil.alerts.config import AlertsConfig
from vigil.alerts.service import AlertService, RuleError
from vigil.bus import MemoryBus
from vigil.store import EventStore
from vigil.store import alerts as alert_rows
from vigil.store.alerts import AlertQuery, StoredAlert


def service(store: EventStore, actions: dict[str, Any], rules: list[dict[str, Any]],
            clock: Callable[[], int] | None = None, **settings: Any) -> AlertService:
    config = AlertsConfig.model_validate({"actions": actions, "rules": rules, **settings})
    extra = {} if clock is None else {"clock": clock}
    return AlertService(config, store, public_url="http://vigil.test:8080", **extra)


def hook(url: str, **settings: Any) -> dict[str, Any]:
    return {"type": "webhook", "url": url, "secret": "k", "backoff_s": 0.05, **settings}


def stored(store: EventStore) -> list[StoredAlert]:
    return alert_rows.query_alerts(store.engine, AlertQuery(limit=100)).items


def settled(store: EventStore, count: int = 1) -> list[StoredAlert]:
    """The stored alerts once `count` of them exist and none is pending."""
    return wait_until(lambda: (items := stored(store)) and len(items) >= count and all(
        item.status != "pending" for item in items) and items)


def test_retries_after_503_back_off_and_every_attempt_is_recorded(store: EventStore) -> None:
    with webhook_receiver([503, 503, 200]) as receiver:
        alerts = service(store, {"ops": hook(receiver.url)}, [{"id": "any", "actions": ["ops"]}])
        bus = MemoryBus()
        alerts.start(bus)
        event = build_event()
        bus.publish(message(event))
        [alert] = settled(store)
        alerts.stop()
    assert len(receiver.requests) == 3
    assert (alert.rule_id, alert.event_id, alert.camera_id) == ("any", event.id, "gate")
    assert alert.status == "delivered" and alert.attempts == 3 and alert.last_error is None
    outcome = alert.outcomes["ops"]
    assert (outcome["type"], outcome["status"], outcome["attempts"]) == ("webhook", "delivered", 3)
    history = outcome["history"]
    assert [(h["attempt"], h["ok"], h["detail"]) for h in history] == [
        (1, False, "HTTP 503: busy"), (2, False, "HTTP 503: busy"), (3, True, "HTTP 200")]
    # Exponential backoff: 0.05 s, then 0.1 s.
    gaps = [b["at_ms"] - a["at_ms"] for a, b in pairwise(history)]
    assert gaps[0] >= 50 and gaps[1] >= 100


def test_a_400_is_not_retried(store: EventStore) -> None:
    with webhook_receiver([400]) as receiver:
        alerts = service(store, {"ops": hook(receiver.url)}, [{"id": "any", "actions": ["ops"]}])
        alerts.start(MemoryBus())
        alerts.handle(message(build_event()))
        [alert] = settled(store)
        time.sleep(0.2)  # time enough for a (wrong) retry
        alerts.stop()
    assert len(receiver.requests) == 1
    assert alert.status == "failed" and alert.attempts == 1
    assert alert.last_error == "HTTP 400: bad payload"


def test_retries_end_after_the_configured_number(store: EventStore) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    alerts = service(store, {"down": hook(url, retries=2, backoff_s=0.01)},
                     [{"id": "any", "actions": ["down"]}])
    alerts.start(MemoryBus())
    alerts.handle(message(build_event()))
    [alert] = settled(store)
    alerts.stop()
    assert alert.status == "failed" and alert.attempts == 3
    assert alert.outcomes["down"]["last_error"].startswith("request failed")


def test_a_slow_webhook_blocks_neither_evaluation_nor_other_actions(store: EventStore) -> None:
    with webhook_receiver(delay_s=1.5) as slow, webhook_receiver() as fast:
        alerts = service(
            store, {"slow": hook(slow.url), "fast": hook(fast.url)},
            [{"id": "both", "actions": ["slow", "fast"]}, {"id": "fast-only", "actions": ["fast"]}],
        )
        alerts.start(MemoryBus())
        began = time.monotonic()
        for offset in range(3):
            alerts.handle(message(build_event(at_ms=BASE_MS + offset)))
        assert time.monotonic() - began < 0.5  # evaluation only queues deliveries
        fast.wait_for(6, timeout=1.4)  # 3 events × 2 rules, before the slow one answered once
        assert all(item.status == "pending" for item in stored(store) if item.rule_id == "both")
        alerts.stop(timeout=0.5)


def test_a_full_queue_is_recorded_as_not_sent(store: EventStore) -> None:
    with webhook_receiver(delay_s=0.5) as slow:
        alerts = service(store, {"slow": hook(slow.url)}, [{"id": "r", "actions": ["slow"]}],
                         queue_size=1)
        alerts.start(MemoryBus())
        for offset in range(4):
            alerts.handle(message(build_event(at_ms=BASE_MS + offset)))
        items = settled(store, 4)
        alerts.stop()
    refused = [item for item in items if item.attempts == 0]
    assert refused and all(item.status == "failed" for item in refused)
    assert refused[0].outcomes["slow"]["last_error"] == "not sent: the delivery queue is full"


def test_an_event_fires_once_even_across_a_restart(store: EventStore) -> None:
    rules = [{"id": "any"}]
    crossing = message(build_event())
    assert len(service(store, {}, rules).handle(crossing)) == 1
    # A new process remembers nothing, and the bus may deliver the message again.
    assert service(store, {}, rules).handle(crossing) == []
    [alert] = stored(store)
    assert alert.status == "recorded" and alert.outcomes == {}


def test_a_restarted_service_keeps_counts_and_cooldowns(store: EventStore) -> None:
    """Two of three crossings counted, and a cool-down running, when the process restarts:
    the third crossing fires the count rule, and the cooling rule stays quiet."""
    clock = Clock()
    rules = [{"id": "three", "count": {"at_least": 3, "window_s": 600}},
             {"id": "calm", "cooldown_s": 600}]
    crossings = [build_event(at_ms=BASE_MS + i * 1000) for i in range(3)]
    before = service(store, {}, rules, clock=clock)
    for crossing in crossings[:2]:
        store.upsert_events([crossing])  # stored, then evaluated, as the sink orders it
        before.handle(message(crossing))
    assert [alert.rule_id for alert in stored(store)] == ["calm"]

    clock.advance(60)
    after = service(store, {}, rules, clock=clock)
    bus = MemoryBus()
    after.start(bus)
    try:
        store.upsert_events(crossings[2:])
        bus.publish(message(crossings[2]))
        fired = wait_until(lambda: len(items := stored(store)) == 2 and items)
    finally:
        after.stop()
    counted = [alert for alert in fired if alert.rule_id == "three"]
    assert [(alert.event_id, alert.match_count) for alert in counted] == [(crossings[2].id, 3)]
    assert sum(alert.rule_id == "calm" for alert in stored(store)) == 1


def test_stop_evaluates_and_delivers_what_was_already_committed(store: EventStore) -> None:
    with webhook_receiver() as receiver:
        alerts = service(store, {"ops": hook(receiver.url)}, [{"id": "any", "actions": ["ops"]}])
        bus = MemoryBus()
        alerts.start(bus)
        for offset in range(5):
            bus.publish(message(build_event(at_ms=BASE_MS + offset)))
        alerts.stop()
        assert len(receiver.requests) == 5
    assert {item.status for item in stored(store)} == {"delivered"}


def test_cooldown_with_the_service_clock(store: EventStore) -> None:
    clock = Clock()
    alerts = service(store, {}, [{"id": "calm", "cooldown_s": 60}], clock=clock)
    first = alerts.handle(message(build_event()))
    clock.advance(59)
    second = alerts.handle(message(build_event(at_ms=BASE_MS + 1)))
    clock.advance(1)
    third = alerts.handle(message(build_event(at_ms=BASE_MS + 2)))
    assert (len(first), len(second), len(third)) == (1, 0, 1)
    assert [item.fired_ms for item in stored(store)] == [BASE_MS + 60_000, BASE_MS]


def test_rules_added_through_the_service_apply_at_once(store: EventStore) -> None:
    alerts = service(store, {"ops": hook("http://127.0.0.1:9/")}, [{"id": "declared"}])
    alerts.start(MemoryBus())
    try:
        created = alerts.save_rule(rule("night", classes=["car"]), create=True)
        assert created.origin == "api" and created.created_ms is not None
        fired = alerts.handle(message(build_event(class_name="car")))
        assert sorted(alert.rule_id for alert in fired) == ["declared", "night"]
        alerts.save_rule(rule("night", classes=["bus"]), create=False)
        assert [a.rule_id for a in alerts.handle(message(build_event(at_ms=BASE_MS + 1,
                                                                     class_name="bus")))] == [
            "declared", "night"]
        alerts.delete_rule("night")
        assert [r.rule.id for r in alerts.list_rules(None)] == ["declared"]
        for change, status in (
            (lambda: alerts.save_rule(rule("declared"), create=False), 409),
            (lambda: alerts.delete_rule("declared"), 409),
            (lambda: alerts.save_rule(rule("x", actions=["nope"]), create=True), 422),
            (lambda: alerts.save_rule(rule("missing"), create=False), 404),
            (lambda: alerts.delete_rule("missing"), 404),
        ):
            with pytest.raises(RuleError) as caught:
                change()
            assert caught.value.status == status
    finally:
        alerts.stop()


def test_a_test_alert_is_sent_and_not_stored(store: EventStore) -> None:
    with webhook_receiver() as receiver:
        alerts = service(store, {"ops": hook(receiver.url)},
                         [{"id": "r", "cameras": ["gate"], "actions": ["ops"]}])
        outcomes = alerts.test_rule(alerts.config.rules[0])
        [request] = receiver.wait_for(1)
    assert outcomes["ops"].ok
    body = request.json()
    assert body["alert"]["test"] is True and body["event"]["attributes"] == {"test": True}
    assert body["event"]["camera_id"] == "gate"
    assert stored(store) == []


def test_messages_other_than_events_are_ignored(store: EventStore) -> None:
    assert service(store, {}, [{"id": "any"}]).handle(object()) == []


class _FlakyBus(MemoryBus):
    """A committed bus that cannot be subscribed to at first (NATS unreachable just then)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def subscribe(self, name: str, *, lossless: bool = True,
                  max_pending: int = 10_000) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("nats: connection closed")
        return super().subscribe(name, lossless=lossless, max_pending=max_pending)


class _HeldRole:
    """This node holds the cluster's alerts role (vigil.cluster.role.RoleLease's interface)."""

    held = True


def test_a_node_taking_up_alerts_while_nats_is_unreachable_tries_again(
    store: EventStore
) -> None:
    alerts = service(store, {}, [{"id": "any"}])
    bus = _FlakyBus(failures=2)
    alerts.start(bus, role=_HeldRole())  # type: ignore[arg-type]
    try:
        wait_until(lambda: alerts.evaluating)
        bus.publish(message(build_event()))
        assert wait_until(lambda: stored(store))
        assert bus.failures == 0
    finally:
        alerts.stop()
