"""Captions: one deterministic sentence per event, built only from what Vigil knows about it.

A caption is what search embeds and what keyword ranking reads, so the same event always gets the
same caption (for a given time zone), and events that differ only in time or track id share one.
Continuous values are put into a few named buckets ("for a few minutes", "about 40 km/h") so
that captions stay few and read like plain language. Nothing in a caption describes a person
beyond the detector's class name and the dominant colour of the box: no identity, no appearance.

Layout (parts that are unknown are left out)::

    <count> <colour> <class> <action> [<direction>] [<manner>] on camera <camera>, <time of day>.
    [Scene text: "<text>".] Event: <type words> (<module> module).

Examples::

    white car crossed line gate-in going in on camera North gate, in the evening.
    Event: line crossing (line module).

    person loitering in zone walkway for a few minutes on camera Plaza east, at night.
    Event: loitering (loitering module).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from vigil.domain.events import Event

# Parts of the day, in the local hour [start, end). Query parsing uses the same table, so
# "at night" in a query means what it means in a caption.
PARTS_OF_DAY: tuple[tuple[str, int, int], ...] = (
    ("night", 22, 6),
    ("morning", 6, 12),
    ("afternoon", 12, 18),
    ("evening", 18, 22),
)
_PART_PHRASE = {
    "night": "at night",
    "morning": "in the morning",
    "afternoon": "in the afternoon",
    "evening": "in the evening",
}
_PLURALS = {"person": "people", "bus": "buses"}
# What happened, by event type (exact) or module; "{zone}"/"{line}" are filled in when known.
_TYPE_ACTIONS = {
    "zone.presence": "in zone {zone}",
    "line.crossing": "crossed line {line}",
    "loitering": "loitering in zone {zone}",
    "dwell": "dwelling in zone {zone}",
    "wrong_way": "moving the wrong way in zone {zone}",
    "speeding": "speeding",
    "running": "running",
    "intrusion": "intruding into zone {zone}",
    "abandoned.object": "left unattended, an abandoned object",
    "vehicle.stopped": "stopped, a stopped vehicle",
    "occupancy.high": "crowded zone {zone}, high occupancy",
    "queue.member": "waiting in a queue in zone {zone}",
    "queue.long": "long queue in zone {zone}",
    "tamper.covered": "camera view covered, tampering",
    "tamper.defocus": "camera out of focus, tampering",
    "tamper.moved": "camera moved, tampering",
    "motion": "motion in the scene",
    "object_removed": "object removed from zone {zone}",
    "traffic_flow.entry": "vehicle flow through zone {zone}",
}
_MODULE_ACTIONS = {
    "zone": "in zone {zone}",
    "line": "crossed line {line}",
    "loitering": "loitering in zone {zone}",
    "dwell": "dwelling in zone {zone}",
    "wrong_way": "moving the wrong way in zone {zone}",
    "speed": "speeding",
    "running": "running",
    "intrusion": "intruding into zone {zone}",
    "abandoned": "left unattended, an abandoned object",
    "stopped_vehicle": "stopped, a stopped vehicle",
    "occupancy": "crowded zone {zone}",
    "queue": "queue in zone {zone}",
    "parking": "parked in zone {zone}",
    "stream_health": "camera stream problem",
    "count_anomaly": "unusual count in zone {zone}",
}
_DIRECTIONS = {"in": "going in", "out": "going out"}
_SPEED_KEYS = ("max_speed_kmh", "speed_kmh")
_DURATION_KEYS = ("duration_s",)
_TEXT_KEYS = ("text", "scene_text", "ocr")
_MAX_TEXT = 80
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class CaptionFacts:
    """The filterable facts of a caption; events with the same caption share all of them."""

    tenant: str
    camera_id: str
    camera_name: str
    module: str
    type: str
    class_name: str | None
    color: str | None
    zone: str | None
    line: str | None
    direction: str | None
    part_of_day: str


def part_of_day(ms: int, tz: ZoneInfo | None) -> str:
    """'night', 'morning', 'afternoon' or 'evening' of an epoch-ms instant in `tz`."""
    hour = datetime.fromtimestamp(ms / 1000, tz or UTC).hour
    return part_of_hour(hour)


def part_of_hour(hour: int) -> str:
    for name, start, end in PARTS_OF_DAY:
        if (start <= hour < end) if start < end else (hour >= start or hour < end):
            return name
    return "night"


def dwell_phrase(seconds: float | None) -> str | None:
    if seconds is None or seconds < 0:
        return None
    if seconds < 10:
        return "briefly"
    if seconds < 60:
        return "for under a minute"
    if seconds < 300:
        return "for a few minutes"
    if seconds < 900:
        return "for about ten minutes"
    return "for a long time, over fifteen minutes"


def speed_phrase(kmh: float | None, class_name: str | None) -> str | None:
    """Speeds in steps of 10 km/h, with a word people use for them."""
    if kmh is None or kmh < 0:
        return None
    step = int(round(kmh / 10.0) * 10)
    if class_name == "person":
        manner = "running" if kmh >= 9 else "walking"
        return f"{manner} at about {max(step, 5)} km/h"
    manner = "slow" if kmh < 20 else "fast" if kmh >= 60 else "moving"
    return f"{manner} at about {step} km/h"


def count_phrase(count: int) -> str:
    if count <= 5:
        return str(count)
    if count <= 15:
        return "about 10"
    if count <= 30:
        return "about 20"
    return "dozens of"


def scene_text(attributes: dict[str, Any]) -> str | None:
    """Text read in the scene by OCR, one line, at most 80 characters."""
    for key in _TEXT_KEYS:
        value = attributes.get(key)
        if isinstance(value, list | tuple):
            value = " ".join(str(item) for item in value if item)
        if isinstance(value, str) and value.strip():
            text = _SPACES.sub(" ", value.replace('"', "'")).strip()
            return text[:_MAX_TEXT]
    return None


def _number(attributes: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _subject(event: Event) -> str:
    obj = event.object
    raw = event.attributes.get("count")
    count = raw if isinstance(raw, int) and not isinstance(raw, bool) else 0
    counted = count > 1
    if obj is None:
        return f"{count_phrase(count)} objects" if counted else ""
    name = obj.class_name.replace("_", " ")
    if counted:
        name = _PLURALS.get(name, name + "s")
    words = [count_phrase(count) if counted else "", obj.color or "", name]
    return " ".join(word for word in words if word)


def _action(event: Event) -> str:
    template = _TYPE_ACTIONS.get(event.type) or _MODULE_ACTIONS.get(event.module)
    if template is None:
        template = event.type.replace(".", " ").replace("_", " ")
        if event.zone:
            template += " in zone {zone}"
        elif event.line:
            template += " at line {line}"
    text = template
    for key, value in (("zone", event.zone), ("line", event.line)):
        placeholder = "{" + key + "}"
        if placeholder in text:
            text = text.replace(placeholder, value) if value else _drop_place(text, key)
    return text


def _drop_place(text: str, key: str) -> str:
    """'loitering in zone {zone}' without a zone → 'loitering'."""
    return re.sub(r"\s*(?:in|into|through|from|at)?\s*(?:zone|line)\s*\{" + key + r"\}", "",
                  text).strip(" ,")


def type_words(event_type: str, module: str) -> str:
    words = event_type.replace(".", " ").replace("_", " ")
    return f"{words} ({module.replace('_', ' ')} module)"


def caption(event: Event, tz: ZoneInfo | None = None) -> str:
    """The event's caption; `tz` gives the time of day (the server's zone, UTC by default)."""
    parts = [_subject(event), _action(event)]
    if event.direction:
        parts.append(_DIRECTIONS.get(event.direction, f"going {event.direction}"))
    attributes = event.attributes
    speed = speed_phrase(_number(attributes, _SPEED_KEYS),
                         event.object.class_name if event.object else None)
    if speed:
        parts.append(speed)
    dwell = event.dwell_s if event.dwell_s is not None else _number(attributes, _DURATION_KEYS)
    dwell_text = dwell_phrase(dwell)
    if dwell_text and event.type != "line.crossing":
        parts.append(dwell_text)
    parts.append(f"on camera {event.camera_name or event.camera_id}")
    sentence = " ".join(part for part in parts if part)
    sentence += f", {_PART_PHRASE[part_of_day(event.start_ms, tz)]}."
    text = scene_text(attributes)
    if text:
        sentence += f' Scene text: "{text}".'
    sentence += f" Event: {type_words(event.type, event.module)}."
    return _SPACES.sub(" ", sentence).strip()


def facts(event: Event, tz: ZoneInfo | None = None) -> CaptionFacts:
    obj = event.object
    return CaptionFacts(
        tenant=event.tenant,
        camera_id=event.camera_id,
        camera_name=event.camera_name,
        module=event.module,
        type=event.type,
        class_name=obj.class_name if obj else None,
        color=obj.color if obj else None,
        zone=event.zone,
        line=event.line,
        direction=event.direction,
        part_of_day=part_of_day(event.start_ms, tz),
    )
