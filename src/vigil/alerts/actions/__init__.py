"""Alert actions (webhook, MQTT, e-mail), built from their named settings."""

from __future__ import annotations

from collections.abc import Mapping

from vigil.alerts.actions.base import Action, Attempt
from vigil.alerts.actions.mail import EmailSender, SnapshotReader
from vigil.alerts.actions.mqtt import MqttSender
from vigil.alerts.actions.webhook import WebhookSender
from vigil.alerts.alert import Links
from vigil.alerts.config import ActionConfig, EmailAction, MqttAction, WebhookAction

__all__ = ["Action", "Attempt", "build_actions"]


def build_actions(
    configs: Mapping[str, ActionConfig], links: Links, snapshots: SnapshotReader | None = None
) -> dict[str, Action]:
    actions: dict[str, Action] = {}
    for name, config in configs.items():
        if isinstance(config, WebhookAction):
            actions[name] = WebhookSender(name, config, links)
        elif isinstance(config, MqttAction):
            actions[name] = MqttSender(name, config, links)
        elif isinstance(config, EmailAction):
            actions[name] = EmailSender(name, config, links, snapshots)
    return actions
