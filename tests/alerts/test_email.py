"""The e-mail action against a real SMTP server (aiosmtpd on 127.0.0.1): the message arrives
with a subject and body naming the camera and the event, and a link to it in the UI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.alerts.conftest import BASE_MS, build_event
from tests.alerts.receivers import free_port, smtp_server
from vigil.alerts.actions.mail import EmailSender
from vigil.alerts.alert import Alert, Links
from vigil.alerts.config import EmailAction
from vigil.store import LocalMediaStore

LINKS = Links("http://vigil.example:8080")
JPEG = b"\xff\xd8\xff\xe0 stored, face-blurred snapshot \xff\xd9"


def config(port: int, **settings: object) -> EmailAction:
    return EmailAction.model_validate({
        "type": "email", "host": "127.0.0.1", "port": port, "sender": "vigil@example.org",
        "to": ["desk@example.org", "lead@example.org"], "timeout_s": 5, **settings})


def make_alert(**event_fields: object) -> Alert:
    return Alert(id="0190a000-0000-7000-8000-000000000003", rule_id="intrusion",
                 rule_name="Night intrusion", event=build_event(camera_id="north-gate",
                                                               **event_fields),
                 fired_ms=BASE_MS)


def test_the_message_names_camera_and_event_and_links_to_it() -> None:
    alert = make_alert()
    with smtp_server() as box:
        attempt = EmailSender("desk", config(box.port), LINKS).send(alert)
        [mail] = box.wait_for(1)
    assert attempt.ok and attempt.detail == "accepted for 2 recipient(s)"
    assert mail["Subject"] == "[Vigil] Night intrusion: line.crossing on North-Gate"
    assert mail["From"] == "vigil@example.org"
    assert box.envelopes == [("vigil@example.org", ["desk@example.org", "lead@example.org"])]
    assert mail.get_content_type() == "text/plain"
    body = mail.get_content()
    assert "Camera: North-Gate (north-gate)" in body
    assert f"Event id: {alert.event.id}" in body
    assert "Event: line.crossing" in body and "Line: door, direction in" in body
    assert f"http://vigil.example:8080/#/alerts?event={alert.event.id}" in body


# Plain-text AUTH is fine against a server on 127.0.0.1; aiosmtpd warns about it anyway.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_login_and_a_refused_password() -> None:
    with smtp_server(login=("vigil", "right")) as box:
        good = EmailSender("desk", config(box.port, username="vigil", password="right"), LINKS)
        bad = EmailSender("desk", config(box.port, username="vigil", password="wrong"), LINKS)
        anonymous = EmailSender("desk", config(box.port), LINKS)
        outcomes = [good.send(make_alert()), bad.send(make_alert()),
                    anonymous.send(make_alert())]
        box.wait_for(1)
    assert outcomes[0].ok
    assert not outcomes[1].ok and not outcomes[1].retryable and "SMTP 535" in outcomes[1].detail
    assert not outcomes[2].ok and "530" in outcomes[2].detail
    assert len(box.messages) == 1


def test_the_stored_snapshot_is_attached_only_when_configured(tmp_path: Path) -> None:
    media = LocalMediaStore(tmp_path / "media")
    key = "default/north-gate/2026/11/18/snapshot.jpg"
    media.put(key, JPEG, "image/jpeg")
    alert = make_alert(snapshot=key)
    with smtp_server() as box:
        EmailSender("desk", config(box.port, attach_snapshot=True), LINKS, media.get).send(alert)
        EmailSender("desk", config(box.port), LINKS, media.get).send(alert)
        with_image, without = box.wait_for(2)
    [attachment] = list(with_image.iter_attachments())
    assert attachment.get_content_type() == "image/jpeg"
    assert attachment.get_content() == JPEG
    assert list(without.iter_attachments()) == []


def test_an_unreachable_server_is_a_retryable_failure() -> None:
    attempt = EmailSender("desk", config(free_port()), LINKS).send(make_alert())
    assert not attempt.ok and attempt.retryable and "SMTP to 127.0.0.1" in attempt.detail
