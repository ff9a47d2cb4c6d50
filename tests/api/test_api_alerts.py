"""The alert routes over a real store and a started alert service: rules from the config
file (read-only) and the API, the actions list without secrets, test alerts to a real webhook
receiver, and fired alerts with their events, filters and paging."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.alerts.receivers import WebhookReceiver, webhook_receiver
from tests.api.conftest import BASE_MS, CONFIG, StaticEngine, api_app, trust
from vigil.alerts.service import AlertService, public_url
from vigil.api.access import tenant_scope
from vigil.bus import MemoryBus
from vigil.config import parse_config
from vigil.domain.events import Event, EventMessage, Phase
from vigil.store import EventStore, LocalMediaStore

SECRET = "do-not-show-me"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def alerts_client(
    receiver: WebhookReceiver,
    store: EventStore,
    media: LocalMediaStore,
    bus: MemoryBus,
    tmp_path: Path,
) -> Iterator[tuple[TestClient, AlertService]]:
    config = parse_config(
        {
            **CONFIG,
            "store": {"media_dir": str(tmp_path / "media")},
            "alerts": {
                "actions": {
                    "ops": {
                        "type": "webhook",
                        "url": receiver.url,
                        "secret": SECRET,
                        "backoff_s": 0.05,
                    }
                },
                "rules": [
                    {
                        "id": "door-in",
                        "name": "Door, inbound",
                        "line": "door",
                        "direction": "in",
                        "actions": ["ops"],
                    }
                ],
            },
        }
    )
    store.migrate()
    service = AlertService(config.alerts, store, public_url=public_url(config), media=media)
    service.start(bus)
    # An unrestricted caller; the tenant test narrows the scope itself.
    app = trust(api_app(config, StaticEngine(config.cameras), store, media, bus, alerts=service))
    yield TestClient(app), service
    service.stop()


def wait_for_alerts(client: TestClient, count: int, query: str = "") -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        items = client.get(f"/api/alerts?limit=100{query}").json()["items"]
        if len(items) >= count and all(item["status"] != "pending" for item in items):
            return list(items)
        assert time.monotonic() < deadline, f"alerts so far: {items}"
        time.sleep(0.05)


def test_rules_of_config_and_api(alerts_client: tuple[TestClient, AlertService]) -> None:
    client, _ = alerts_client
    [declared] = client.get("/api/alert-rules").json()
    assert declared["id"] == "door-in" and declared["origin"] == "config"
    assert declared["created"] is None and declared["cooldown_s"] == 0

    created = client.post(
        "/api/alert-rules", json={"name": "Cars", "classes": ["car"], "cooldown_s": 30}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    rule_id = body["id"]
    assert created.headers["Location"] == f"/api/alert-rules/{rule_id}"
    assert body["origin"] == "api" and body["created"].endswith("Z")
    assert client.get(f"/api/alert-rules/{rule_id}").json()["classes"] == ["car"]

    named = client.post("/api/alert-rules", json={"id": "vans", "classes": ["truck"]})
    assert named.status_code == 201 and named.json()["id"] == "vans"
    again = client.post("/api/alert-rules", json={"id": "vans", "classes": ["car"]})
    assert again.status_code == 409

    replaced = client.put("/api/alert-rules/vans", json={"classes": ["bus"], "enabled": False})
    assert replaced.status_code == 200 and replaced.json()["classes"] == ["bus"]
    assert [r["id"] for r in client.get("/api/alert-rules").json()] == ["door-in", rule_id, "vans"]
    assert client.delete("/api/alert-rules/vans").status_code == 204
    assert client.get("/api/alert-rules/vans").status_code == 404
    assert client.delete("/api/alert-rules/vans").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "detail"),
    [
        (
            "post",
            "/api/alert-rules",
            {"classes": ["car"], "actions": ["pager"]},
            422,
            "actions: unknown action(s) pager; defined: ops",
        ),
        (
            "post",
            "/api/alert-rules",
            {"name": "Everything", "cameras": ["cam-a"]},
            422,
            "type: the rule has no condition and would fire for every event",
        ),
        (
            "post",
            "/api/alert-rules",
            {"classes": ["car"], "escalation": {"after_min": 5, "actions": ["pager"]}},
            422,
            "escalation.actions: unknown action(s) pager; defined: ops",
        ),
        (
            "post",
            "/api/alert-rules",
            {"classes": ["car"], "escalation": {"after_min": 0, "actions": ["ops"]}},
            422,
            "body.escalation.after_min: Input should be greater than 0",
        ),
        (
            "post",
            "/api/alert-rules",
            {"module": "lines"},
            422,
            "body.module: unknown analytics module 'lines'",
        ),
        (
            "post",
            "/api/alert-rules",
            {
                "schedule": {
                    "timezone": "Nowhere/City",
                    "windows": [{"start": "08:00", "end": "09:00"}],
                }
            },
            422,
            "body.schedule.timezone: unknown IANA time zone 'Nowhere/City'",
        ),
        ("post", "/api/alert-rules", {"id": "Bad Id"}, 422, "body.id: rule id 'Bad Id'"),
        ("post", "/api/alert-rules", {"min_score": 2}, 422, "body.min_score: Input should be"),
        (
            "put",
            "/api/alert-rules/door-in",
            {"classes": ["car"]},
            409,
            "rule 'door-in' is declared in the config file; change it there",
        ),
        (
            "delete",
            "/api/alert-rules/door-in",
            None,
            409,
            "rule 'door-in' is declared in the config file; remove it there",
        ),
        (
            "put",
            "/api/alert-rules/door-in",
            {"id": "other"},
            422,
            "id: the body's id 'other' differs from the path's 'door-in'",
        ),
        ("put", "/api/alert-rules/nothing", {}, 404, "no alert rule with id 'nothing'"),
        ("get", "/api/alerts?status=lost", None, 422, "status: 'lost' is not one of"),
        ("get", "/api/alerts?start=yesterday", None, 422, "start: 'yesterday' is not an ISO"),
        ("get", "/api/alerts?limit=0", None, 422, "limit: must be between 1 and 1000"),
        ("get", "/api/alerts/not-an-id", None, 422, "alert_id: String should match pattern"),
    ],
)
def test_errors_name_the_parameter(
    alerts_client: tuple[TestClient, AlertService],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    detail: str,
) -> None:
    client, _ = alerts_client
    response = client.request(method.upper(), path, json=body)
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]


def test_actions_are_listed_without_secrets(
    alerts_client: tuple[TestClient, AlertService], receiver: WebhookReceiver
) -> None:
    client, _ = alerts_client
    response = client.get("/api/alert-actions")
    port = receiver.url.split(":")[2].split("/")[0]
    assert response.json() == [
        {
            "name": "ops",
            "type": "webhook",
            "target": f"http://127.0.0.1:{port}",
            "retries": 3,
            "timeout_s": 10.0,
            # A config-file action is read-only here: changed in the file, so its settings
            # are not offered for editing.
            "origin": "config",
            "settings": {},
            "secrets_set": [],
        }
    ]
    assert SECRET not in response.text


def test_a_test_alert_reaches_the_webhook(
    alerts_client: tuple[TestClient, AlertService], receiver: WebhookReceiver
) -> None:
    client, _ = alerts_client
    response = client.post("/api/alert-rules/door-in/test")
    assert response.status_code == 200
    assert response.json() == {
        "rule_id": "door-in",
        "outcomes": {"ops": {"ok": True, "retryable": False, "detail": "HTTP 200"}},
    }
    [request] = receiver.wait_for(1)
    assert request.json()["alert"]["test"] is True
    assert client.get("/api/alerts").json()["items"] == []
    assert client.post("/api/alert-rules/nothing/test").status_code == 404


def test_fired_alerts_with_their_events_filters_and_paging(
    alerts_client: tuple[TestClient, AlertService],
    bus: MemoryBus,
    store: EventStore,
    make_event: Callable[..., Event],
    receiver: WebhookReceiver,
) -> None:
    client, _ = alerts_client
    events = [
        make_event(start_ms=BASE_MS + i * 1000, direction="in" if i < 3 else "out")
        for i in range(5)
    ]
    store.upsert_events(events)  # as the sink does before republishing on `committed`
    for event in events:
        bus.publish(EventMessage(phase=Phase.END, event=event))
    items = wait_for_alerts(client, 3)
    assert len(items) == 3 and len(receiver.requests) == 3
    newest = items[0]
    assert newest["rule_id"] == "door-in" and newest["rule_name"] == "Door, inbound"
    assert newest["event_id"] == events[2].id and newest["event"]["id"] == events[2].id
    assert newest["status"] == "delivered" and newest["attempts"] == 1
    assert newest["fired"].endswith("Z")
    ops = newest["outcomes"]["ops"]
    assert ops["status"] == "delivered" and ops["delivered"].endswith("Z")
    assert ops["history"][0]["detail"] == "HTTP 200"

    page = client.get("/api/alerts?limit=2").json()
    assert [i["id"] for i in page["items"]] == [items[0]["id"], items[1]["id"]]
    rest = client.get(f"/api/alerts?limit=2&cursor={page['next_cursor']}").json()
    assert [i["id"] for i in rest["items"]] == [items[2]["id"]] and rest["next_cursor"] is None
    assert client.get("/api/alerts?camera=dock").json()["items"] == []
    assert len(client.get("/api/alerts?rule=door-in&status=delivered").json()["items"]) == 3
    assert client.get("/api/alerts?status=failed").json()["items"] == []
    assert client.get(f"/api/alerts/{newest['id']}").json()["event_id"] == events[2].id
    assert client.get(f"/api/alerts/{events[0].id}").status_code == 404


def test_other_tenants_rules_and_alerts_are_invisible(
    alerts_client: tuple[TestClient, AlertService],
) -> None:
    client, _ = alerts_client
    client.app.dependency_overrides[tenant_scope] = lambda: ["harbour"]  # type: ignore[attr-defined]
    assert client.get("/api/alert-rules").json() == []
    assert client.get("/api/alert-rules/door-in").status_code == 404
    assert client.post("/api/alert-rules/door-in/test").status_code == 404
    refused = client.post(
        "/api/alert-rules", json={"id": "mine", "tenant": "default", "classes": ["car"]}
    )
    assert refused.status_code == 403 and "tenant 'default' is not yours" in refused.text
    # The caller's one tenant, whose namespace the chosen id lives in.
    created = client.post("/api/alert-rules", json={"id": "mine", "classes": ["car"]})
    assert created.status_code == 201 and created.json()["tenant"] == "harbour"
    assert [r["id"] for r in client.get("/api/alert-rules").json()] == ["harbour:mine"]


def test_chosen_ids_and_action_names_live_in_the_tenants_namespace(
    alerts_client: tuple[TestClient, AlertService],
) -> None:
    client, _ = alerts_client  # a caller of every tenant
    own = client.post("/api/alert-rules", json={"id": "desk-watch", "line": "door"})
    assert (own.status_code, own.json()["id"]) == (201, "desk-watch")  # 'default' keeps bare
    prefixed = client.post("/api/alert-rules", json={"id": "harbour:x", "line": "door"})
    assert (prefixed.status_code, prefixed.json()["detail"]) == (
        422,
        "body.id: a rule of tenant 'default' has a bare id, without a tenant prefix; write 'x'",
    )
    theirs = client.post(
        "/api/alert-rules", json={"id": "gate-watch", "tenant": "harbour", "line": "door"}
    )
    assert (theirs.status_code, theirs.json()["id"]) == (201, "harbour:gate-watch")
    assert theirs.headers["Location"] == "/api/alert-rules/harbour:gate-watch"
    # Moved to another tenant, a chosen id would sit in the wrong namespace.
    moved = client.put("/api/alert-rules/harbour:gate-watch", json={"line": "door"})
    assert moved.status_code == 422
    assert moved.json()["detail"] == (
        "tenant: a rule of tenant 'default' has a bare id, without a tenant prefix; write "
        "'gate-watch'; add it anew to move it"
    )
    hook = {"type": "webhook", "url": "https://hooks.example.org/in"}
    bare = client.post("/api/alert-actions/desk", json=hook)
    assert (bare.status_code, bare.json()["name"]) == (201, "desk")
    named = client.post("/api/alert-actions/desk", json={**hook, "tenant": "harbour"})
    assert (named.status_code, named.json()["name"]) == (201, "harbour:desk")
