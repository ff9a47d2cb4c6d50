"""Alerts end to end: the real `vigil serve` replays the bundled clip with a line-crossing
rule, and a webhook receiver in the test gets a signed payload whose event the API serves."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator

import pytest

from tests.alerts.receivers import WebhookReceiver, webhook_receiver
from tests.media import CLIP, LINE
from tests.server import Server, running_server

SECRET = "e2e-shared-secret"


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, receiver: WebhookReceiver) -> Iterator[
        Server]:
    cameras = [{"id": "plaza", "name": "Plaza", "url": str(CLIP), "analysis_fps": 5,
                "lines": [LINE], "modules": {"line": {}}}]
    alerts = {
        "public_url": "http://vigil.example:8080",
        "actions": {"ops": {"type": "webhook", "url": receiver.url, "secret": SECRET}},
        "rules": [{"id": "lamp-post-crossings", "name": "Lamp post crossings", "module": "line",
                   "type": "line.crossing", "line": LINE["name"], "cameras": ["plaza"],
                   "actions": ["ops"]}],
    }
    with running_server(tmp_path_factory.mktemp("vigil-alerts"), cameras,
                        {"alerts": alerts}) as running:
        yield running


def test_a_line_crossing_reaches_the_webhook_signed_and_its_event_is_served(
    server: Server, receiver: WebhookReceiver
) -> None:
    [request, *_] = receiver.wait_for(1, timeout=120)
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Vigil-Signature"], expected)
    body = request.json()
    event = body["event"]
    assert body["alert"]["rule_id"] == "lamp-post-crossings" and body["alert"]["test"] is False
    assert (event["camera_id"], event["type"], event["line"]) == (
        "plaza", "line.crossing", LINE["name"])
    assert body["links"]["event"] == f"http://vigil.example:8080/api/events/{event['id']}"
    # The alert followed the store: the event is served the moment the webhook hears of it.
    served = server.get_json(f"/api/events/{event['id']}")
    assert served["id"] == event["id"] and served["line"] == LINE["name"]

    deadline = time.monotonic() + 10
    while True:
        items = server.get_json("/api/alerts?rule=lamp-post-crossings")["items"]
        mine = [item for item in items if item["id"] == body["alert"]["id"]]
        if mine and mine[0]["status"] == "delivered":
            break
        assert time.monotonic() < deadline, f"alert not recorded as delivered: {items}"
        time.sleep(0.2)
    assert mine[0]["event_id"] == event["id"]
    assert mine[0]["outcomes"]["ops"]["history"][0]["detail"] == "HTTP 200"
