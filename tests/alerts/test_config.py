"""Alert settings in the config file: a full example loads, and each mistake is reported
with the key that holds it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from vigil.alerts.config import EmailAction, MqttAction, WebhookAction
from vigil.config import ConfigError, load_config, parse_config

EXAMPLE = """
alerts:
  public_url: https://vigil.example.org/
  actions:
    ops-webhook:
      type: webhook
      url: https://ops.example.org/hooks/vigil
      secret: change-me
      retries: 5
    site-broker:
      type: mqtt
      host: mqtt.example.org
      topic: sites/north/{camera_id}/{type}
    night-desk:
      type: email
      host: smtp.example.org
      port: 587
      starttls: true
      username: vigil
      password: secret
      sender: vigil@example.org
      to: [desk@example.org]
  rules:
    - id: crowd-at-gate
      name: Crowd at the gate
      module: line
      type: line.crossing
      cameras: [gate]
      line: door
      classes: [person]
      count: {at_least: 21, window_s: 300}
      cooldown_s: 600
      actions: [ops-webhook, site-broker]
    - id: night-intrusion
      type: zone.entry
      zone: yard
      schedule:
        timezone: Europe/Berlin
        windows: [{days: [mon, tue, wed, thu, fri], start: "22:00", end: "06:00"}]
      actions: [night-desk]
"""


def test_the_documented_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "vigil.yaml"
    path.write_text(EXAMPLE)
    alerts = load_config(path).alerts
    assert alerts.public_url == "https://vigil.example.org"
    assert isinstance(alerts.actions["ops-webhook"], WebhookAction)
    assert isinstance(alerts.actions["site-broker"], MqttAction)
    assert alerts.actions["site-broker"].qos == 1
    assert isinstance(alerts.actions["night-desk"], EmailAction)
    crowd, night = alerts.rules
    assert crowd.count is not None and crowd.count.at_least == 21
    assert night.schedule is not None and night.schedule.windows[0].end_minute == 360


def with_change(path: list[Any], value: Any) -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["alerts", "rules", 0, "actions"], ["ops-webhook", "pager"],
         "alerts: rules[0].actions: unknown action(s) pager; defined: night-desk, ops-webhook, "
         "site-broker"),
        (["alerts", "actions", "ops-webhook", "url"], "ops.example.org/hook",
         "alerts.actions.ops-webhook.webhook.url: 'ops.example.org/hook' is not an http:// or "
         "https:// URL"),
        (["alerts", "rules", 1, "schedule", "timezone"], "Europe/Berlín",
         "alerts.rules[1].schedule.timezone: unknown IANA time zone 'Europe/Berlín'"),
        (["alerts", "rules", 1, "schedule", "windows", 0, "start"], "25:00",
         "alerts.rules[1].schedule.windows[0].start: '25:00' is not a time HH:MM"),
        (["alerts", "rules", 1, "schedule", "windows", 0, "days"], ["monday"],
         "alerts.rules[1].schedule.windows[0].days[0]: Input should be 'mon'"),
        (["alerts", "actions", "site-broker", "topic"], "sites/{camera_name}/#",
         "alerts.actions.site-broker.mqtt.topic: a topic to publish to cannot contain"),
        (["alerts", "actions", "site-broker", "topic"], "sites/{camera.name}",
         "alerts.actions.site-broker.mqtt.topic: placeholder {camera.name} must be a plain name"),
        (["alerts", "actions", "night-desk", "subject"], "{secret}",
         "alerts.actions.night-desk.email.subject: unknown placeholder(s) secret"),
        (["alerts", "actions", "night-desk", "to"], ["desk"],
         "alerts.actions.night-desk.email.to: 'desk' is not an e-mail address"),
        (["alerts", "actions", "ops-webhook", "headers"], {"X-Vigil-Signature": "x"},
         "alerts.actions.ops-webhook.webhook.headers: header 'X-Vigil-Signature' is set by Vigil"),
        (["alerts", "actions", "ops-webhook", "type"], "pager",
         "alerts.actions.ops-webhook: Input tag 'pager' found using 'type' does not match"),
        (["alerts", "rules", 0, "module"], "lines",
         "alerts.rules[0].module: unknown analytics module 'lines'"),
        (["alerts", "rules", 1, "id"], "crowd-at-gate",
         "alerts: rules[1].id: rule id 'crowd-at-gate' is used twice"),
        (["alerts", "rules", 0, "repeat_on_update"], True,
         "alerts.rules[0]: repeat_on_update: a count rule counts distinct events"),
        (["alerts", "rules", 0, "cooldown"], 60, "alerts.rules[0].cooldown: unknown key"),
    ],
)
def test_mistakes_name_the_key(path: list[Any], value: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(with_change(path, value), "vigil.yaml")
    assert expected in str(caught.value)
