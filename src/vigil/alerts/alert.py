"""A fired alert and what actions send about it: the JSON payload, template values, the
plain-text summary and the links back to the event."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from vigil.alerts.config import template_fields
from vigil.domain.events import Event

PAYLOAD_VERSION = 1


def iso(ms: int) -> str:
    """Epoch ms as ISO 8601 UTC with a 'Z', as the API writes times."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    rule_id: str
    rule_name: str
    event: Event
    fired_ms: int
    count: int | None = None
    test: bool = False  # sent from POST /api/alert-rules/{id}/test; never stored
    escalated: bool = False  # sent again because nobody acknowledged it in time


@dataclass(frozen=True, slots=True)
class Links:
    """Where the event can be seen: the API resource and the UI (the alerts page opens the
    event's detail panel for `?event=`)."""

    base_url: str

    def event_api(self, event_id: str) -> str:
        return f"{self.base_url}/api/events/{quote(event_id, safe='')}"

    def event_ui(self, event_id: str) -> str:
        return f"{self.base_url}/#/alerts?event={quote(event_id, safe='')}"


def payload(alert: Alert, links: Links) -> dict[str, Any]:
    return {
        "version": PAYLOAD_VERSION,
        "alert": {
            "id": alert.id,
            "rule_id": alert.rule_id,
            "rule_name": alert.rule_name,
            "fired": iso(alert.fired_ms),
            "fired_ms": alert.fired_ms,
            "count": alert.count,
            "test": alert.test,
            "escalated": alert.escalated,
        },
        "event": alert.event.model_dump(mode="json"),
        "links": {"event": links.event_api(alert.event.id), "ui": links.event_ui(alert.event.id)},
    }


def payload_bytes(alert: Alert, links: Links) -> bytes:
    """The exact bytes sent (and signed): compact UTF-8 JSON."""
    return json.dumps(payload(alert, links), separators=(",", ":"), ensure_ascii=False).encode()


def template_values(alert: Alert) -> dict[str, str]:
    event = alert.event
    return {
        "tenant": event.tenant,
        "camera_id": event.camera_id,
        "camera_name": event.camera_name,
        "module": event.module,
        "type": event.type,
        "rule_id": alert.rule_id,
        "rule_name": alert.rule_name,
        "class_name": event.object.class_name if event.object else "",
        "zone": event.zone or "",
        "line": event.line or "",
    }


def render(template: str, values: dict[str, str], *, topic: bool = False) -> str:
    """Fill a validated template. Line breaks are removed (no header injection); in MQTT
    topics, level separators and wildcards in values are replaced too."""
    cleaned = {}
    for name in template_fields(template):
        value = values.get(name, "").replace("\r", " ").replace("\n", " ")
        if topic:
            value = value.replace("/", "_").replace("+", "_").replace("#", "_")
        cleaned[name] = value
    return template.format_map(cleaned)


def summary_text(alert: Alert, links: Links) -> str:
    """The e-mail body: what happened, where, when, and the links."""
    event = alert.event
    obj = event.object
    lines = [
        f"Rule: {alert.rule_name} ({alert.rule_id})"
        + (" — TEST, nothing happened" if alert.test else ""),
        *(["ESCALATED: nobody has acknowledged this alert yet."] if alert.escalated else []),
        f"Event: {event.type} ({event.state.value})",
        f"Camera: {event.camera_name} ({event.camera_id})",
        f"Time: {iso(event.start_ms)}",
    ]
    if obj is not None:
        lines.append(f"Object: {obj.class_name} (score {obj.score:.2f})")
    if event.zone:
        lines.append(f"Zone: {event.zone}")
    if event.line:
        lines.append(
            f"Line: {event.line}" + (f", direction {event.direction}" if event.direction else "")
        )
    if event.dwell_s is not None:
        lines.append(f"Dwell: {event.dwell_s:.1f} s")
    if alert.count is not None:
        lines.append(f"Count: {alert.count} matching events within the rule's window")
    lines += [
        f"Alert fired: {iso(alert.fired_ms)} (alert id {alert.id})",
        f"Event id: {event.id}",
        "",
        f"See the event: {links.event_ui(event.id)}",
        f"Event data: {links.event_api(event.id)}",
    ]
    return "\n".join(lines) + "\n"
