"""The event schema (versioned, published as JSON Schema) and time-sortable event ids.

Vocabulary follows DeepStream/ONVIF loosely: the camera is the sensor, a zone or line is the
place, the tracked object is the object, and `module` names the analytics module.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

_uuid7_lock = threading.Lock()
_uuid7_last = (0, 0)


def uuid7(ts_ms: int | None = None) -> str:
    """A UUIDv7 (RFC 9562): 48-bit millisecond timestamp, then a counter and random bits.

    Ids sort by creation time as strings, which the store's keyset pagination relies on.
    A 12-bit counter keeps ids created in the same millisecond ordered.
    """
    global _uuid7_last
    ms = time.time_ns() // 1_000_000 if ts_ms is None else ts_ms
    with _uuid7_lock:
        last_ms, last_seq = _uuid7_last
        seq = last_seq + 1 if ms <= last_ms else int.from_bytes(os.urandom(2)) & 0x3FF
        if ms < last_ms:
            ms = last_ms
        if seq > 0xFFF:
            ms, seq = ms + 1, 0
        _uuid7_last = (ms, seq)
    rand_b = int.from_bytes(os.urandom(8)) & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


class EventState(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class Phase(StrEnum):
    """Where an event is in its life when it is published on the bus."""

    START = "start"
    UPDATE = "update"
    END = "end"


class ObjectInfo(BaseModel):
    """The tracked object the event is about. Never an identity: class, box and colour only."""

    model_config = ConfigDict(extra="forbid")

    class_name: str = Field(description="COCO class name, e.g. 'person', 'car'")
    class_id: int
    track_id: int | None = Field(
        None, description="Per-camera tracker id; not stable across cameras"
    )
    score: float = Field(ge=0.0, le=1.0)
    box: tuple[float, float, float, float] | None = Field(
        None, description="x1, y1, x2, y2 in pixels of the frame the snapshot shows"
    )
    color: str | None = Field(None, description="Dominant colour name of the object")


class Event(BaseModel):
    """One analytics event. Written by id, so publishing it twice changes nothing."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    id: str = Field(description="UUIDv7: sorts by creation time")
    tenant: str
    camera_id: str
    camera_name: str
    module: str = Field(description="Analytics module that produced the event, e.g. 'zone'")
    type: str = Field(
        description="Event type within the module, e.g. 'zone.entry', 'line.crossing'"
    )
    state: EventState
    object: ObjectInfo | None = Field(
        None, description="The object the event is about; none for scene events (e.g. tampering)"
    )
    zone: str | None = None
    line: str | None = None
    direction: str | None = Field(None, description="'in' or 'out' for line crossings")
    dwell_s: float | None = Field(None, description="Seconds the object has been in the zone")
    start_ms: int = Field(description="Epoch milliseconds, UTC")
    end_ms: int | None = None
    updated_ms: int
    snapshot: str | None = Field(None, description="Media key of the face-blurred best snapshot")
    attributes: dict[str, Any] = Field(default_factory=dict)


class EventMessage(BaseModel):
    """What travels on the bus: the event as it is now, and which step of its life this is."""

    phase: Phase
    event: Event


def event_json_schema() -> dict[str, Any]:
    schema = Event.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://vigil.invalid/schema/event/v{SCHEMA_VERSION}.json"
    return schema


def write_event_json_schema(path: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(event_json_schema(), fh, indent=2)
        fh.write("\n")
