"""Deterministic synthetic events with known attributes, for search quality tests and benchmarks.

`synthetic_events(n, seed=..., end_ms=...)` spreads `n` events over `days` days before `end_ms`
across a fixed set of cameras (`SITE`, two tenants) or, with `cameras=k`, k generated cameras. The
same arguments always give the same events, ids included, so labelled queries can name exactly
which events are relevant by their attributes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from vigil.domain.events import Event, EventState, ObjectInfo


@dataclass(frozen=True, slots=True)
class Camera:
    id: str
    name: str
    tenant: str
    zones: tuple[str, ...]
    lines: tuple[str, ...]


SITE: tuple[Camera, ...] = (
    Camera("north-gate", "North gate", "default", ("gate area",), ("gate-in",)),
    Camera("dock", "Dock", "default", ("loading zone",), ("dock door",)),
    Camera("plaza-east", "Plaza east", "default", ("walkway", "fountain"), ("lamp-post",)),
    Camera("plaza-west", "Plaza west", "default", ("walkway", "kiosk"), ("lamp-post",)),
    Camera("car-park", "Car park", "default", ("parking row", "exit ramp"), ("barrier",)),
    Camera("bus-stop", "Bus stop", "default", ("shelter",), ("kerb",)),
    Camera("depot", "Harbour depot", "harbour", ("yard",), ("depot gate",)),
)
VEHICLES = ("car", "car", "car", "truck", "bus", "motorcycle")
COLOURS = ("white", "black", "gray", "red", "blue", "silver", "green", "yellow")
COLOUR_NAMES = ("white", "black", "gray", "red", "blue", "gray", "green", "yellow")
SCENE_TEXT = (
    "DHL",
    "UPS EXPRESS",
    "ACME PLUMBING",
    "CITY WATER",
    "FRESH BREAD CO",
    "LINE 42",
    "POLICE",
    "AMBULANCE",
    "TAXI",
    "MOVING & STORAGE",
)
# (module, type, needs): what can happen, and what the event needs (zone, line, vehicle …).
KINDS: tuple[tuple[str, str, str], ...] = (
    ("zone", "zone.presence", "zone"),
    ("zone", "zone.presence", "zone"),
    ("line", "line.crossing", "line"),
    ("line", "line.crossing", "line"),
    ("loitering", "loitering", "zone-person"),
    ("wrong_way", "wrong_way", "zone-vehicle"),
    ("speed", "speeding", "vehicle"),
    ("running", "running", "person"),
    ("abandoned", "abandoned.object", "bag"),
    ("stopped_vehicle", "vehicle.stopped", "vehicle"),
    ("occupancy", "occupancy.high", "crowd"),
    ("tamper_covered", "tamper.covered", "scene"),
)
CLASS_IDS = {
    "person": 0,
    "bicycle": 1,
    "car": 2,
    "motorcycle": 3,
    "bus": 5,
    "truck": 7,
    "backpack": 24,
    "suitcase": 28,
}
_STREETS = (
    "Market",
    "River",
    "Station",
    "Harbour",
    "Church",
    "Mill",
    "Park",
    "Bridge",
    "Castle",
    "Garden",
    "School",
    "Tower",
    "Union",
    "Victoria",
    "Queen",
    "King",
)
_SIDES = ("north", "south", "east", "west", "gate", "corner", "square", "lane")


def generated_cameras(count: int) -> tuple[Camera, ...]:
    """`count` cameras with distinct names ("Market north", …) over two tenants."""
    cameras = []
    for i in range(count):
        street, side = _STREETS[i % len(_STREETS)], _SIDES[(i // len(_STREETS)) % len(_SIDES)]
        suffix = f" {i // (len(_STREETS) * len(_SIDES)) + 1}" if i >= 128 else ""
        name = f"{street} {side}{suffix}"
        cameras.append(
            Camera(
                name.lower().replace(" ", "-"),
                name,
                "default" if i % 5 else "harbour",
                (f"{street.lower()} zone", f"{side} area"),
                (f"{street.lower()} line",),
            )
        )
    return tuple(cameras)


def event_id(ms: int, rng: np.random.Generator) -> str:
    """A UUIDv7 for `ms` whose random bits come from `rng` (so ids are reproducible)."""
    seq = int(rng.integers(0, 1 << 12))
    rand_b = int(rng.integers(0, 1 << 62, dtype=np.int64))
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


def synthetic_events(
    n: int,
    *,
    seed: int = 7,
    end_ms: int = 1_795_000_000_000,
    days: int = 14,
    cameras: tuple[Camera, ...] = SITE,
) -> Iterator[Event]:
    """`n` ended events, oldest first."""
    rng = np.random.default_rng(seed)
    span = days * 86_400_000
    starts = np.sort(end_ms - span + rng.integers(0, span, size=n))
    for start in starts.tolist():
        yield _one(rng, int(start), cameras)


def _one(rng: np.random.Generator, start: int, cameras: tuple[Camera, ...]) -> Event:
    camera = cameras[int(rng.integers(len(cameras)))]
    module, type_, needs = KINDS[int(rng.integers(len(KINDS)))]
    zone = line = direction = None
    dwell: float | None = None
    attributes: dict[str, object] = {}
    if needs in ("zone", "zone-person", "zone-vehicle", "crowd") or (needs == "bag"):
        zone = camera.zones[int(rng.integers(len(camera.zones)))]
    if needs == "line":
        line = camera.lines[int(rng.integers(len(camera.lines)))]
        direction = "in" if rng.random() < 0.5 else "out"
    if needs in ("zone-person", "person", "crowd") or (
        needs in ("zone", "line") and rng.random() < 0.5
    ):
        class_name = "person"
    elif needs == "bag":
        class_name = "suitcase" if rng.random() < 0.5 else "backpack"
    elif needs == "scene":
        class_name = None
    elif needs in ("zone", "line") and rng.random() < 0.2:
        class_name = "bicycle"
    else:
        class_name = VEHICLES[int(rng.integers(len(VEHICLES)))]
    colour = None
    if class_name is not None:
        pick = int(rng.integers(len(COLOURS)))
        colour = COLOUR_NAMES[pick]
    if type_ in ("zone.presence", "loitering", "abandoned.object", "vehicle.stopped"):
        dwell = float(rng.choice([4.0, 25.0, 95.0, 400.0, 1200.0]))
    if type_ == "speeding":
        attributes["max_speed_kmh"] = float(rng.choice([55.0, 72.0, 95.0]))
    if type_ == "running":
        attributes["speed_kmh"] = float(rng.choice([12.0, 16.0]))
    if type_ == "occupancy.high":
        attributes["count"] = int(rng.choice([8, 14, 25]))
    if class_name in ("truck", "bus") and rng.random() < 0.3:
        attributes["text"] = SCENE_TEXT[int(rng.integers(len(SCENE_TEXT)))]
    attributes["frame_size"] = [1280, 720]
    end = start + int((dwell or 1.0) * 1000)
    obj = None
    if class_name is not None:
        x = float(rng.integers(0, 1000))
        y = float(rng.integers(0, 500))
        obj = ObjectInfo(
            class_name=class_name,
            class_id=CLASS_IDS[class_name],
            track_id=int(rng.integers(1, 5000)),
            score=round(float(rng.uniform(0.4, 0.95)), 3),
            box=(x, y, x + 120.0, y + 150.0),
            color=colour,
        )
    return Event(
        id=event_id(start, rng),
        tenant=camera.tenant,
        camera_id=camera.id,
        camera_name=camera.name,
        module=module,
        type=type_,
        state=EventState.ENDED,
        object=obj,
        zone=zone,
        line=line,
        direction=direction,
        dwell_s=dwell,
        start_ms=start,
        end_ms=end,
        updated_ms=end,
        snapshot=None,
        attributes=attributes,
    )
