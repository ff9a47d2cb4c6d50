"""The labelled query set: plain-language queries and, for each, which events are relevant.

Relevance is stated independently of the search code, as predicates over the events' known
attributes (class, colour, type, place, direction, scene text, time), so recall measures how
well parsing and ranking find what a person would call a match. `SYNTHETIC` runs over
`synthetic_events(SYNTHETIC_EVENTS)` with the clock at `NOW_MS` in UTC; `CLIP` over the events
of the bundled clip analysed with the demo's first camera, with the clock at the test's now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from vigil.domain.events import Event

SYNTHETIC_EVENTS = 1500
NOW_MS = 1_795_000_000_000  # Wed 2026-11-18 11:06:40 UTC, the end of the synthetic events
VEHICLES = {"car", "truck", "bus", "motorcycle"}


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True)
class Need:
    """What makes an event relevant; every given field must hold."""

    classes: set[str] | None = None
    colors: set[str] | None = None
    types: set[str] | None = None
    type_prefix: str | None = None
    zones: set[str] | None = None
    lines: set[str] | None = None
    cameras: set[str] | None = None
    directions: set[str] | None = None
    text: str | None = None
    window: tuple[int, int] | None = None
    hours: tuple[int, int] | None = None
    min_dwell: float | None = None
    extra: Callable[[Event], bool] | None = field(default=None, compare=False)

    def __call__(self, event: Event) -> bool:
        obj = event.object
        checks = [
            (self.classes, obj.class_name if obj else None),
            (self.colors, obj.color if obj else None),
            (self.types, event.type),
            (self.zones, event.zone),
            (self.lines, event.line),
            (self.cameras, event.camera_id),
            (self.directions, event.direction),
        ]
        if any(wanted is not None and value not in wanted for wanted, value in checks):
            return False
        if self.type_prefix and not event.type.startswith(self.type_prefix):
            return False
        if self.text and self.text.lower() not in str(event.attributes.get("text", "")).lower():
            return False
        if self.window and not self.window[0] <= event.start_ms < self.window[1]:
            return False
        if self.hours:
            hour = datetime.fromtimestamp(event.start_ms / 1000, UTC).hour
            lo, hi = self.hours
            if not ((lo <= hour < hi) if lo < hi else (hour >= lo or hour < hi)):
                return False
        if self.min_dwell is not None and (event.dwell_s or 0) < self.min_dwell:
            return False
        return self.extra is None or self.extra(event)


@dataclass(frozen=True)
class Labelled:
    q: str
    relevant: Need


LAST_NIGHT = (ms("2026-11-17T18:00"), ms("2026-11-18T06:00"))
YESTERDAY_2_TO_4 = (ms("2026-11-17T14:00"), ms("2026-11-17T16:00"))
THIS_MORNING = (ms("2026-11-18T06:00"), ms("2026-11-18T12:00"))
LAST_3_DAYS = (NOW_MS - 3 * 86_400_000, NOW_MS)

SYNTHETIC: list[Labelled] = [
    Labelled("white van in the loading zone",
             Need(classes={"truck", "car"}, colors={"white"}, zones={"loading zone"})),
    Labelled("people running near the north gate",
             Need(classes={"person"}, types={"running"}, cameras={"north-gate"})),
    Labelled("DHL truck", Need(classes={"truck"}, text="DHL")),
    Labelled("person loitering in the walkway at night",
             Need(classes={"person"}, types={"loitering"}, zones={"walkway"}, hours=(22, 6))),
    Labelled("car crossing the barrier",
             Need(classes={"car"}, types={"line.crossing"}, lines={"barrier"})),
    Labelled("bus with line 42", Need(classes={"bus"}, text="LINE 42")),
    Labelled("camera covered", Need(types={"tamper.covered"})),
    Labelled("vehicles going the wrong way on the exit ramp",
             Need(classes=VEHICLES, types={"wrong_way"}, zones={"exit ramp"})),
    Labelled("abandoned suitcase", Need(classes={"suitcase"}, types={"abandoned.object"})),
    Labelled("unattended backpack at the north gate",
             Need(classes={"backpack"}, types={"abandoned.object"}, cameras={"north-gate"})),
    Labelled("speeding black car", Need(classes={"car"}, colors={"black"}, types={"speeding"})),
    Labelled("crowded plaza",
             Need(types={"occupancy.high"}, cameras={"plaza-east", "plaza-west"})),
    Labelled("cyclists crossing the lamp post",
             Need(classes={"bicycle"}, types={"line.crossing"}, lines={"lamp-post"})),
    Labelled("people going out through the dock door",
             Need(classes={"person"}, directions={"out"}, lines={"dock door"})),
    Labelled("stopped vehicle at the bus stop",
             Need(classes=VEHICLES, types={"vehicle.stopped"}, cameras={"bus-stop"})),
    Labelled("people last night", Need(classes={"person"}, window=LAST_NIGHT)),
    Labelled("cars yesterday between 2 and 4 pm",
             Need(classes={"car"}, window=YESTERDAY_2_TO_4)),
    Labelled("ambulance", Need(text="AMBULANCE")),
    Labelled("fresh bread delivery van", Need(classes={"truck", "car"}, text="FRESH BREAD")),
    Labelled("police", Need(text="POLICE")),
    Labelled("motorcycles in the car park", Need(classes={"motorcycle"}, cameras={"car-park"})),
    Labelled("someone waiting in the shelter", Need(classes={"person"}, zones={"shelter"})),
    Labelled("gray truck moving the wrong way",
             Need(classes={"truck"}, colors={"gray"}, types={"wrong_way"})),
    Labelled("tampering at plaza west", Need(type_prefix="tamper.", cameras={"plaza-west"})),
    Labelled("line crossings at the harbour depot",
             Need(types={"line.crossing"}, cameras={"depot"})),
    Labelled("bikes in the kiosk zone",
             Need(classes={"bicycle", "motorcycle"}, zones={"kiosk"})),
    Labelled("blue bus in the evening", Need(classes={"bus"}, colors={"blue"}, hours=(18, 22))),
    Labelled("person loitering for a long time in the gate area",
             Need(types={"loitering"}, zones={"gate area"}, min_dwell=900)),
    Labelled("vehicles this morning", Need(classes=VEHICLES, window=THIS_MORNING)),
    Labelled("yellow motorcycle speeding in the last 3 days",
             Need(classes={"motorcycle"}, colors={"yellow"}, types={"speeding"},
                  window=LAST_3_DAYS)),
    Labelled("people entering through the gate-in line going in",
             Need(classes={"person"}, lines={"gate-in"}, directions={"in"})),
    Labelled("taxi", Need(text="TAXI")),
]

# Over the clip's events (examples/demo.yaml's first camera: zone "walkway", line "lamp-post").
CLIP: list[Labelled] = [
    Labelled("people crossing the lamp-post line",
             Need(classes={"person"}, types={"line.crossing"}, lines={"lamp-post"})),
    Labelled("person in the walkway", Need(classes={"person"}, zones={"walkway"})),
    Labelled("people going in past the lamp post",
             Need(classes={"person"}, lines={"lamp-post"}, directions={"in"})),
    Labelled("pedestrians walking out", Need(classes={"person"}, directions={"out"})),
    Labelled("pedestrians on plaza east in the last hour",
             Need(classes={"person"}, cameras={"plaza-east"})),
    Labelled("walkway visits", Need(types={"zone.presence"}, zones={"walkway"})),
    Labelled("someone loitering in the walkway", Need(types={"loitering"}, zones={"walkway"})),
    Labelled("people who stayed in the walkway for under a minute",
             Need(zones={"walkway"}, min_dwell=10,
                  extra=lambda e: e.dwell_s is not None and e.dwell_s < 60)),
    Labelled("crossings of the lamp post going out",
             Need(types={"line.crossing"}, lines={"lamp-post"}, directions={"out"})),
]


def recall_at(k: int, ranked: list[str], relevant: set[str]) -> float:
    """Share of the relevant events in the first k results (of at most k relevant ones)."""
    if not relevant:
        raise ValueError("a labelled query needs at least one relevant event")
    found = len(set(ranked[:k]) & relevant)
    return found / min(k, len(relevant))
