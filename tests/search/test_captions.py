"""Captions are deterministic sentences built only from what Vigil knows about an event."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from tests.search.labelled import ms
from vigil.bench.synthetic import synthetic_events
from vigil.domain.events import Event, EventState, ObjectInfo
from vigil.search.captions import caption, dwell_phrase, facts, part_of_day, speed_phrase


def event(**fields: object) -> Event:
    base: dict[str, object] = {
        "id": "01a1a666-e467-73b4-bcf1-5e3a6eec8213", "tenant": "default",
        "camera_id": "dock", "camera_name": "Dock", "module": "line", "type": "line.crossing",
        "state": EventState.ENDED,
        "object": ObjectInfo(class_name="car", class_id=2, track_id=7, score=0.8,
                             box=(1, 2, 3, 4), color="white"),
        "line": "gate-in", "direction": "in", "start_ms": ms("2026-11-17T19:30"),
        "updated_ms": ms("2026-11-17T19:30"),
    }
    base.update(fields)
    return Event.model_validate(base)


def test_line_crossing_caption() -> None:
    assert caption(event()) == (
        "white car crossed line gate-in going in on camera Dock, in the evening. "
        "Event: line crossing (line module)."
    )


def test_zone_dwell_count_text_and_time_of_day() -> None:
    loitering = event(
        module="loitering", type="loitering", line=None, direction=None, zone="walkway",
        dwell_s=400.0,
        object=ObjectInfo(class_name="person", class_id=0, score=0.7, color=None),
        start_ms=ms("2026-11-17T23:10"),
    )
    assert caption(loitering) == (
        "person loitering in zone walkway for about ten minutes on camera Dock, at night. "
        "Event: loitering (loitering module)."
    )
    crowd = event(module="occupancy", type="occupancy.high", line=None, direction=None,
                  zone="plaza", object=None, attributes={"count": 14})
    assert caption(crowd).startswith("about 10 objects crowded zone plaza, high occupancy")
    truck = event(object=ObjectInfo(class_name="truck", class_id=7, score=0.9, color="yellow"),
                  attributes={"text": ["DHL", "EXPRESS"]}, type="speeding", module="speed",
                  line=None, direction=None)
    truck.attributes["max_speed_kmh"] = 72.4
    assert caption(truck) == (
        'yellow truck speeding fast at about 70 km/h on camera Dock, in the evening. '
        'Scene text: "DHL EXPRESS". Event: speeding (speed module).'
    )


def test_scene_event_without_object() -> None:
    covered = event(module="tamper_covered", type="tamper.covered", object=None, line=None,
                    direction=None)
    assert caption(covered) == (
        "camera view covered, tampering on camera Dock, in the evening. "
        "Event: tamper covered (tamper covered module)."
    )


def test_unknown_types_still_read_as_words() -> None:
    odd = event(module="custom_thing", type="custom_thing.happened", line=None,
                direction=None, zone="yard")
    assert "custom thing happened in zone yard" in caption(odd)
    assert "(custom thing module)" in caption(odd)


def test_time_of_day_follows_the_zone() -> None:
    moment = ms("2026-11-17T19:30")  # 20:30 in Berlin, 14:30 in New York
    assert part_of_day(moment, ZoneInfo("UTC")) == "evening"
    assert part_of_day(moment, ZoneInfo("America/New_York")) == "afternoon"
    assert "in the afternoon" in caption(event(), ZoneInfo("America/New_York"))
    assert facts(event(), ZoneInfo("Europe/Berlin")).part_of_day == "evening"


def test_buckets() -> None:
    assert [dwell_phrase(s) for s in (None, 3, 30, 120, 600, 5000)] == [
        None, "briefly", "for under a minute", "for a few minutes", "for about ten minutes",
        "for a long time, over fifteen minutes"]
    assert speed_phrase(12, "person") == "running at about 10 km/h"
    assert speed_phrase(4, "person") == "walking at about 5 km/h"
    assert speed_phrase(95, "car") == "fast at about 100 km/h"


def test_deterministic_and_free_of_identity() -> None:
    events = list(synthetic_events(300))
    first = [caption(e) for e in events]
    assert first == [caption(e) for e in events]
    # Track ids, event ids, scores and boxes never reach a caption: they would make every
    # caption unique and say nothing a person searches for.
    for e, text in zip(events, first, strict=True):
        assert e.id not in text
        if e.object is not None and e.object.track_id is not None:
            assert f"track {e.object.track_id}" not in text
    lowered = " ".join(first).lower()
    for word in ("face", "identity", "name", "gender", "age", "ethnic"):
        assert f" {word} " not in lowered
