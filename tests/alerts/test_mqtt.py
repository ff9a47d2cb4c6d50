"""The MQTT action against a real Mosquitto broker (Debian's mosquitto package): a subscriber
receives the alert on the topic built from the event, with QoS 1."""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from dataclasses import replace

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.alerts.conftest import BASE_MS, build_event
from tests.alerts.receivers import MOSQUITTO, free_port, mosquitto_broker
from vigil.alerts.actions.mqtt import MqttSender
from vigil.alerts.alert import Alert, Links
from vigil.alerts.config import MqttAction

pytestmark = pytest.mark.skipif(
    not MOSQUITTO.exists(), reason="Debian mosquitto is not installed; apt-get install mosquitto"
)
LINKS = Links("http://vigil.example:8080")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with mosquitto_broker(tmp_path_factory.mktemp("mosquitto")) as port:
        yield port


def subscribe(port: int, topic: str) -> tuple[mqtt.Client, queue.Queue[mqtt.MQTTMessage]]:
    received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    subscribed: queue.Queue[bool] = queue.Queue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.on_message = lambda _c, _u, msg: received.put(msg)
    client.on_subscribe = lambda *_args: subscribed.put(True)
    client.connect("127.0.0.1", port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    subscribed.get(timeout=10)
    return client, received


def alert_on(camera_id: str) -> Alert:
    return Alert(id="0190a000-0000-7000-8000-000000000002", rule_id="night", rule_name="Night",
                 event=build_event(camera_id=camera_id), fired_ms=BASE_MS)


def test_a_subscriber_receives_the_alert_on_its_topic(broker: int) -> None:
    client, received = subscribe(broker, "vigil/#")
    try:
        config = MqttAction(type="mqtt", host="127.0.0.1", port=broker,
                            topic="vigil/{tenant}/{camera_id}/{module}")
        attempt = MqttSender("site", config, LINKS).send(alert_on("gate"))
        message = received.get(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()
    assert attempt.ok, attempt.detail
    assert attempt.detail == "published to vigil/default/gate/line (QoS 1)"
    assert message.topic == "vigil/default/gate/line"
    assert message.qos == 1
    body = json.loads(message.payload)
    assert body["event"]["camera_id"] == "gate" and body["alert"]["rule_id"] == "night"


def test_topic_values_cannot_add_levels_or_wildcards(broker: int) -> None:
    alert = alert_on("gate")
    alert = replace(alert, event=alert.event.model_copy(update={"tenant": "a/b+#"}))
    client, received = subscribe(broker, "alerts/#")
    try:
        config = MqttAction(type="mqtt", host="127.0.0.1", port=broker,
                            topic="alerts/{tenant}/{camera_id}")
        assert MqttSender("site", config, LINKS).send(alert).ok
        message = received.get(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()
    assert message.topic == "alerts/a_b__/gate"


def test_an_unreachable_broker_is_a_retryable_failure() -> None:
    config = MqttAction(type="mqtt", host="127.0.0.1", port=free_port(), timeout_s=2)
    attempt = MqttSender("site", config, LINKS).send(alert_on("gate"))
    assert not attempt.ok and attempt.retryable
    assert "cannot connect to 127.0.0.1" in attempt.detail
