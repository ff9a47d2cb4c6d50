"""Alerts that demand attention, over a real store, a real webhook receiver and the alert
service: firing alerts until acknowledged (with a note, once), escalation of the ones nobody
acknowledged through a second action, "test this rule" on the last 24 hours, rules refused
as too broad, and delivery figures in /metrics."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.alerts.receivers import WebhookReceiver, webhook_receiver
from tests.api.conftest import CONFIG, StaticEngine, api_app, trust
from vigil.alerts.preview import MAX_FIRINGS_PER_DAY
from vigil.alerts.service import AlertService, public_url
from vigil.bus import MemoryBus
from vigil.config import parse_config
from vigil.domain.events import Event, EventMessage, Phase
from vigil.domain.frames import now_ms
from vigil.store import EventStore, LocalMediaStore


class Clock:
    """The alert service's clock, moved by the test: escalation waits minutes."""

    def __init__(self) -> None:
        self.ms = now_ms()

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def receivers() -> Iterator[tuple[WebhookReceiver, WebhookReceiver]]:
    with webhook_receiver() as ops, webhook_receiver() as pager:
        yield ops, pager


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def console(
    receivers: tuple[WebhookReceiver, WebhookReceiver],
    store: EventStore,
    media: LocalMediaStore,
    bus: MemoryBus,
    tmp_path: Path,
    clock: Clock,
) -> Iterator[tuple[TestClient, AlertService]]:
    ops, pager = receivers
    config = parse_config(
        {
            **CONFIG,
            "store": {"media_dir": str(tmp_path / "media")},
            "alerts": {
                "actions": {
                    "ops": {"type": "webhook", "url": ops.url, "backoff_s": 0.05},
                    "pager": {"type": "webhook", "url": pager.url, "retries": 2,
                              "backoff_s": 0.05},
                },
                "rules": [
                    {
                        "id": "door-in",
                        "name": "Door, inbound",
                        "line": "door",
                        "direction": "in",
                        "actions": ["ops"],
                        "escalation": {"after_min": 5, "actions": ["pager"]},
                    }
                ],
            },
        }
    )
    store.migrate()
    # Not started: the test hands it messages and runs the escalation round itself.
    service = AlertService(
        config.alerts, store, public_url=public_url(config), media=media, clock=clock
    )
    service.reload()
    app = trust(api_app(config, StaticEngine(config.cameras), store, media, bus, alerts=service))
    yield TestClient(app), service


def fire(service: AlertService, store: EventStore, events: list[Event]) -> None:
    store.upsert_events(events)
    for event in events:
        service.handle(EventMessage(phase=Phase.END, event=event))


def wait_until(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + 10
    while not (result := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.05)
    return result


def test_alerts_fire_until_acknowledged_with_a_note(
    console: tuple[TestClient, AlertService],
    store: EventStore,
    make_event: Callable[..., Event],
) -> None:
    client, service = console
    start = now_ms() - 60_000
    fire(service, store, [make_event(start_ms=start + i * 1000) for i in range(3)])
    firing = client.get("/api/alerts/firing?limit=2").json()
    assert firing["count"] == 3
    assert [item["rule_name"] for item in firing["items"]] == ["Door, inbound"] * 2
    assert firing["items"][0]["camera_name"] == "Gate" and not firing["items"][0]["escalated"]
    newest = firing["items"][0]["id"]

    done = client.post(f"/api/alerts/{newest}/acknowledge", json={"note": " Door checked. "})
    assert done.status_code == 200, done.text
    assert done.json()["by"] == "tests" and done.json()["note"] == "Door checked."
    assert client.get("/api/alerts/firing").json()["count"] == 2
    listed = {item["id"]: item for item in client.get("/api/alerts").json()["items"]}
    assert listed[newest]["acknowledged"]["note"] == "Door checked."
    assert listed[newest]["acknowledged"]["at"].endswith("Z")
    assert [item["acknowledged"] for i, item in listed.items() if i != newest] == [None, None]

    again = client.post(f"/api/alerts/{newest}/acknowledge", json={"note": "me too"})
    assert again.status_code == 409 and "already acknowledged by tests" in again.text
    assert client.get(f"/api/alerts/{newest}").json()["acknowledged"]["note"] == "Door checked."


@pytest.mark.parametrize(
    ("path", "body", "status", "detail"),
    [
        (
            "/api/alerts/0190c0de-0000-7000-8000-000000000000/acknowledge",
            {},
            404,
            "no alert with id",
        ),
        ("/api/alerts/nope/acknowledge", {}, 422, "alert_id: String should match pattern"),
        ("/api/alert-rules/preview", {"name": "all"}, 200, None),
    ],
)
def test_errors_name_the_field(
    console: tuple[TestClient, AlertService],
    path: str,
    body: dict[str, Any],
    status: int,
    detail: str | None,
) -> None:
    client, _ = console
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    if detail is not None:
        assert detail in str(response.json()["detail"])


def test_a_note_longer_than_allowed_is_refused(
    console: tuple[TestClient, AlertService],
    store: EventStore,
    make_event: Callable[..., Event],
) -> None:
    client, service = console
    fire(service, store, [make_event(start_ms=now_ms() - 1000)])
    [alert] = client.get("/api/alerts/firing").json()["items"]
    response = client.post(f"/api/alerts/{alert['id']}/acknowledge", json={"note": "x" * 1001})
    assert response.status_code == 422 and "body.note" in response.text


def test_unacknowledged_alerts_escalate_once_through_the_second_action(
    console: tuple[TestClient, AlertService],
    store: EventStore,
    clock: Clock,
    make_event: Callable[..., Event],
    receivers: tuple[WebhookReceiver, WebhookReceiver],
) -> None:
    client, service = console
    _ops, pager = receivers
    fire(service, store, [make_event(start_ms=now_ms() - 2000 + i) for i in range(2)])
    waiting, handled = client.get("/api/alerts/firing").json()["items"]
    client.post(f"/api/alerts/{handled['id']}/acknowledge", json={"note": "seen"})

    clock.ms += 4 * 60_000  # not yet five minutes
    assert service.escalate_due() == 0
    clock.ms += 61_000
    assert service.escalate_due() == 1
    assert service.escalate_due() == 0  # once
    [request] = pager.wait_for(1)
    sent = request.json()["alert"]
    assert sent["id"] == waiting["id"] and sent["escalated"] is True
    assert sent["rule_name"] == "Door, inbound (not acknowledged after 5 min)"

    def escalated() -> Any:
        alert = client.get(f"/api/alerts/{waiting['id']}").json()
        outcome = (alert["escalated"] or {}).get("outcomes", {}).get("pager", {})
        return alert if outcome.get("status") == "delivered" else None

    alert = wait_until(escalated, "the escalation's outcome was not recorded")
    assert alert["acknowledged"] is None
    assert client.get(f"/api/alerts/{handled['id']}").json()["escalated"] is None
    firing = client.get("/api/alerts/firing").json()["items"]
    assert [(item["id"], item["escalated"]) for item in firing] == [(waiting["id"], True)]
    # It still fires until someone acknowledges it.
    assert client.post(f"/api/alerts/{waiting['id']}/acknowledge", json={}).status_code == 200
    assert client.get("/api/alerts/firing").json()["count"] == 0

    metrics = client.get("/metrics").text
    line = 'vigil_alert_escalations_total{action="pager",result="delivered",tenant="default"} 1.0'
    assert line in metrics
    assert 'vigil_alerts_unacknowledged{tenant="default"} 0.0' in metrics


def test_a_failed_escalation_is_retried_with_backoff_and_its_attempts_recorded(
    console: tuple[TestClient, AlertService],
    store: EventStore,
    clock: Clock,
    make_event: Callable[..., Event],
    receivers: tuple[WebhookReceiver, WebhookReceiver],
) -> None:
    client, service = console
    _ops, pager = receivers
    pager.statuses = [503, 503]  # the pager is down for two attempts, then answers
    fire(service, store, [make_event(start_ms=now_ms() - 1000)])
    [waiting] = client.get("/api/alerts/firing").json()["items"]
    clock.ms += 5 * 60_000 + 1000
    assert service.escalate_due() == 1
    assert len(pager.wait_for(3)) == 3

    def settled() -> Any:
        alert = client.get(f"/api/alerts/{waiting['id']}").json()
        outcome = (alert["escalated"] or {}).get("outcomes", {}).get("pager", {})
        return outcome if outcome.get("status") in ("delivered", "failed") else None

    outcome = wait_until(settled, "the escalation did not settle")
    assert outcome["status"] == "delivered" and outcome["attempts"] == 3
    assert [entry["ok"] for entry in outcome["history"]] == [False, False, True]
    assert "503" in outcome["history"][0]["detail"]
    metrics = client.get("/metrics").text
    family = "vigil_alert_escalations_total"
    assert f'{family}{{action="pager",result="retrying",tenant="default"}} 2.0' in metrics
    assert f'{family}{{action="pager",result="delivered",tenant="default"}} 1.0' in metrics


def test_test_this_rule_counts_the_last_24_hours(
    console: tuple[TestClient, AlertService],
    store: EventStore,
    make_event: Callable[..., Event],
) -> None:
    client, _ = console
    now = now_ms()
    store.upsert_events(
        [make_event(start_ms=now - 3600_000 + i * 60_000) for i in range(6)]  # in the last hour
        + [make_event(start_ms=now - 3600_000 + i, direction="out") for i in range(2)]
        + [make_event(start_ms=now - 30 * 3600_000)]  # before the 24 hours
        + [make_event(start_ms=now - 60_000, camera_id="harbour:dock", tenant="harbour")]
    )
    inbound = {"line": "door", "direction": "in"}
    result = client.post("/api/alert-rules/preview", json=inbound).json()
    assert (result["matched"], result["fired"], result["problem"]) == (6, 6, None)
    cooled = client.post("/api/alert-rules/preview", json={**inbound, "cooldown_s": 150}).json()
    assert (cooled["matched"], cooled["fired"]) == (6, 2)  # minutes 0 and 3 of 0-5
    counted = client.post(
        "/api/alert-rules/preview", json={**inbound, "count": {"at_least": 3, "window_s": 600}}
    ).json()
    assert counted["fired"] == 2
    either = client.post("/api/alert-rules/preview", json={"line": "door"}).json()
    assert either["matched"] == 8
    empty = client.post("/api/alert-rules/preview", json={"name": "everything"}).json()
    assert empty["problem"].startswith("type: the rule has no condition")


def test_a_rule_that_would_fire_too_often_is_refused(
    console: tuple[TestClient, AlertService],
    store: EventStore,
    make_event: Callable[..., Event],
) -> None:
    client, _ = console
    now = now_ms()
    store.upsert_events(
        [make_event(start_ms=now - 3600_000 + i * 100) for i in range(MAX_FIRINGS_PER_DAY + 1)]
    )
    broad = {"name": "Any person", "classes": ["person"]}
    refused = client.post("/api/alert-rules", json=broad)
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith(
        f"cooldown_s: this rule would have fired {MAX_FIRINGS_PER_DAY + 1} times"
    )
    cooled = client.post("/api/alert-rules", json={**broad, "cooldown_s": 60})
    assert cooled.status_code == 201, cooled.text


def test_delivery_figures_in_metrics(
    console: tuple[TestClient, AlertService],
    store: EventStore,
    bus: MemoryBus,
    make_event: Callable[..., Event],
    receivers: tuple[WebhookReceiver, WebhookReceiver],
) -> None:
    client, service = console
    ops, _pager = receivers
    ops.statuses = [503]  # the first attempt fails and is retried
    service.start(bus)
    try:
        event = make_event(start_ms=now_ms() - 1000)
        store.upsert_events([event])
        bus.publish(EventMessage(phase=Phase.END, event=event))
        ops.wait_for(2)

        def delivered() -> str | None:
            text = client.get("/metrics").text
            line = ('vigil_alert_delivery_attempts_total'
                    '{action="ops",result="delivered",tenant="default"} 1.0')
            return text if line in text else None

        text = wait_until(delivered, "the delivery was not counted")
    finally:
        service.stop()
    retried = 'vigil_alert_delivery_attempts_total{action="ops",result="retrying",tenant="default"}'
    assert f"{retried} 1.0" in text
    assert 'vigil_alerts_fired_total{tenant="default"} 1.0' in text
    assert 'vigil_alerts_unacknowledged{tenant="default"} 1.0' in text


def test_a_camera_setting_says_which_event_types_alert_and_which_are_just_recorded(
    console: tuple[TestClient, AlertService],
    store: EventStore,
    make_event: Callable[..., Event],
) -> None:
    client, service = console
    [gate] = [c for c in client.get("/api/alert-cameras").json() if c["camera_id"] == "gate"]
    assert gate["alert_types"] is None and {"line", "zone"} <= set(gate["choices"])

    wrong = client.put("/api/alert-cameras/gate", json={"alert_types": ["zone", "loitering"]})
    assert wrong.status_code == 422
    assert wrong.json()["detail"].startswith("alert_types: loitering is not a module")
    assert client.put("/api/alert-cameras/nowhere", json={"alert_types": []}).status_code == 404

    saved = client.put("/api/alert-cameras/gate", json={"alert_types": ["zone"]})
    assert saved.status_code == 200, saved.text
    assert saved.json()["alert_types"] == ["zone"] and saved.json()["updated_by"] == "tests"
    # The door rule matches the crossing, but on this camera crossings are just recorded.
    start = now_ms() - 10 * 60_000
    crossing = make_event(start_ms=start)
    fire(service, store, [crossing])
    assert client.get("/api/alerts/firing").json()["count"] == 0
    visit = make_event(start_ms=start + 5 * 60_000, type="zone.presence", line=None,
                       direction=None, zone="lot")
    store.upsert_events([visit])
    severities = {item["id"]: item["severity"]
                  for item in client.get("/api/review").json()["items"]}
    assert severities == {crossing.id: "info", visit.id: "alert"}

    # Back to the default: the rule fires again.
    assert client.put("/api/alert-cameras/gate", json={"alert_types": None}).json()[
        "alert_types"] is None
    fire(service, store, [make_event(start_ms=start + 60_000)])
    assert client.get("/api/alerts/firing").json()["count"] == 1


def test_actions_are_edited_through_the_api_with_write_only_secrets(
    console: tuple[TestClient, AlertService],
    store: EventStore,
    bus: MemoryBus,
    make_event: Callable[..., Event],
    receivers: tuple[WebhookReceiver, WebhookReceiver],
) -> None:
    client, service = console
    ops, pager = receivers
    secret, token = "s3cret-one", "Bearer t0ken-1"
    created = client.post("/api/alert-actions/night-hook", json={
        "type": "webhook", "url": ops.url, "secret": secret, "headers": {"Authorization": token},
    })
    assert created.status_code == 201, created.text
    assert created.json()["secrets_set"] == ["secret", "headers"]
    listed = client.get("/api/alert-actions")
    assert secret not in created.text and secret not in listed.text and token not in listed.text
    [hook] = [a for a in listed.json() if a["name"] == "night-hook"]
    assert hook["origin"] == "api" and hook["settings"]["url"] == ops.url

    # A new URL with the secrets left blank: they are kept.
    edited = client.put("/api/alert-actions/night-hook",
                        json={"type": "webhook", "url": pager.url, "secret": "", "headers": {}})
    assert edited.status_code == 200 and edited.json()["secrets_set"] == ["secret", "headers"]
    rule = client.post("/api/alert-rules", json={"name": "Door at night", "line": "door",
                                                 "direction": "in", "actions": ["night-hook"]})
    assert rule.status_code == 201, rule.text
    event = make_event(start_ms=now_ms() - 1000)
    store.upsert_events([event])
    service.start(bus)
    try:
        bus.publish(EventMessage(phase=Phase.END, event=event))
        [request] = pager.wait_for(1)
    finally:
        service.stop()
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Vigil-Signature"] == expected
    assert request.headers["Authorization"] == token

    bad = client.put("/api/alert-actions/night-hook", json={"type": "webhook", "url": "ftp://x"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("url:")
    assert client.put("/api/alert-actions/ops", json={"type": "webhook", "url": ops.url}
                      ).status_code == 409
    assert client.put("/api/alert-actions/nobody", json={"type": "webhook", "url": ops.url}
                      ).status_code == 404
