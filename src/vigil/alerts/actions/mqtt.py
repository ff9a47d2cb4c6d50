"""MQTT: publish the alert's JSON to a topic built from the event (MQTT 3.1.1, QoS 1 default).

One short connection per alert: alerts are rare, and a broker that restarted in between needs
no reconnection logic. With QoS 1 or 2 the attempt succeeds only once the broker acknowledged
the message.
"""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from vigil.alerts.actions.base import Attempt, delivered, failed
from vigil.alerts.alert import Alert, Links, payload_bytes, render, template_values
from vigil.alerts.config import MqttAction

# CONNACK codes that another try cannot fix: bad credentials, not authorised, banned, bad
# authentication method (MQTT 3.1.1 codes 4 and 5, and their MQTT 5 equivalents).
PERMANENT_REFUSALS = frozenset({4, 5, 134, 135, 138, 140})


def topic_for(config: MqttAction, alert: Alert) -> str:
    return render(config.topic, template_values(alert), topic=True)


class MqttSender:
    kind = "mqtt"

    def __init__(self, name: str, config: MqttAction, links: Links) -> None:
        self.name = name
        self.config = config
        self.links = links

    def target(self) -> str:
        scheme = "mqtts" if self.config.tls else "mqtt"
        return f"{scheme}://{self.config.host}:{self.config.port} {self.config.topic}"

    def send(self, alert: Alert) -> Attempt:
        config = self.config
        topic = topic_for(config, alert)
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=config.client_id, protocol=mqtt.MQTTv311
        )
        client.connect_timeout = config.timeout_s
        if config.username is not None:
            client.username_pw_set(config.username, config.password)
        if config.tls:
            client.tls_set()
        connack: list[ReasonCode] = []
        answered = threading.Event()

        def on_connect(
            _client: mqtt.Client, _userdata: object, _flags: object, reason: ReasonCode,
            _properties: object,
        ) -> None:
            connack.append(reason)
            answered.set()

        client.on_connect = on_connect
        where = f"{config.host}:{config.port}"
        try:
            client.connect(config.host, config.port, keepalive=max(5, int(config.timeout_s) * 2))
        except (OSError, ValueError) as error:
            return failed(f"cannot connect to {where}: {error}", retryable=True)
        client.loop_start()
        try:
            if not answered.wait(config.timeout_s):
                return failed(f"{where} did not accept the connection in time", retryable=True)
            reason = connack[0]
            if reason.is_failure:
                return failed(
                    f"{where} refused the connection: {reason}",
                    retryable=reason.value not in PERMANENT_REFUSALS,
                )
            info = client.publish(
                topic, payload_bytes(alert, self.links), qos=config.qos, retain=config.retain
            )
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return failed(f"publish failed: {mqtt.error_string(info.rc)}", retryable=True)
            info.wait_for_publish(config.timeout_s)
            if not info.is_published():
                return failed(
                    f"{where} did not acknowledge within {config.timeout_s:g} s", retryable=True
                )
            return delivered(f"published to {topic} (QoS {config.qos})")
        finally:
            client.disconnect()
            client.loop_stop()
