"""The webhook action against a real HTTP server on 127.0.0.1: the signature verifies over
the exact body, 5xx is retried with backoff until it passes, 4xx is not retried."""

from __future__ import annotations

import hashlib
import hmac
import json

from tests.alerts.conftest import BASE_MS, build_event
from tests.alerts.receivers import free_port, webhook_receiver
from vigil.alerts.actions.webhook import WebhookSender
from vigil.alerts.alert import Alert, Links
from vigil.alerts.config import WebhookAction

SECRET = "s3cret-shared-with-the-receiver"
LINKS = Links("http://vigil.example:8080")


def sender(url: str, **settings: object) -> WebhookSender:
    config = WebhookAction.model_validate({"type": "webhook", "url": url, "secret": SECRET,
                                           **settings})
    return WebhookSender("ops", config, LINKS)


def make_alert() -> Alert:
    return Alert(id="0190a000-0000-7000-8000-000000000001", rule_id="crowd", rule_name="Crowd",
                 event=build_event(), fired_ms=BASE_MS + 5)


def test_body_is_json_signed_with_hmac_sha256() -> None:
    alert = make_alert()
    with webhook_receiver() as receiver:
        attempt = sender(receiver.url, headers={"Authorization": "Bearer t"}).send(alert)
        [request] = receiver.wait_for(1)
    assert attempt.ok and attempt.detail == "HTTP 200"
    # What a receiver does: HMAC over the raw body, compared in constant time.
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Vigil-Signature"], expected)
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == "Bearer t"
    assert request.headers["X-Vigil-Alert-Id"] == alert.id
    body = json.loads(request.body)
    assert body["alert"]["rule_id"] == "crowd" and body["alert"]["test"] is False
    assert body["event"]["id"] == alert.event.id and body["event"]["camera_id"] == "gate"
    assert body["links"]["event"] == f"http://vigil.example:8080/api/events/{alert.event.id}"
    # One changed byte and the signature no longer verifies.
    tampered = request.body.replace(b'"gate"', b'"gatf"')
    forged = "sha256=" + hmac.new(SECRET.encode(), tampered, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(request.headers["X-Vigil-Signature"], forged)


def test_without_a_secret_there_is_no_signature() -> None:
    config = WebhookAction(type="webhook", url="http://unused.invalid/")
    with webhook_receiver() as receiver:
        assert WebhookSender("plain", config.model_copy(update={"url": receiver.url}),
                             LINKS).send(make_alert()).ok
        [request] = receiver.wait_for(1)
    assert "X-Vigil-Signature" not in request.headers


def test_statuses_decide_whether_a_retry_may_help() -> None:
    with webhook_receiver([503, 400, 429, 302]) as receiver:
        action = sender(receiver.url)
        outcomes = [action.send(make_alert()) for _ in range(4)]
    assert [(o.ok, o.retryable) for o in outcomes] == [
        (False, True), (False, False), (False, True), (False, False)]
    assert outcomes[0].detail == "HTTP 503: busy"
    assert outcomes[1].detail == "HTTP 400: bad payload"


def test_connection_errors_and_timeouts_are_retryable() -> None:
    refused = sender(f"http://127.0.0.1:{free_port()}/hook").send(make_alert())
    assert not refused.ok and refused.retryable and "request failed" in refused.detail
    with webhook_receiver(delay_s=1.0) as receiver:
        slow = sender(receiver.url, timeout_s=0.2).send(make_alert())
    assert not slow.ok and slow.retryable and slow.detail == "no answer within 0.2 s"
