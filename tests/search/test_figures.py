"""Numeric conditions ("more than 10 people", "faster than 90 km/h", "at least 3 cars", "longer
than 10 minutes") are filters over stored events that have the figure, and say so as chips."""

from __future__ import annotations

from typing import Any

from tests.search.labelled import NOW_MS
from vigil.domain.events import Event, EventState, ObjectInfo
from vigil.search.explain import account
from vigil.search.query import PlaceNames, parse
from vigil.search.service import SearchRequest, SearchService
from vigil.store import EventStore

_N = 0


def event(type_: str, module: str, *, cls: str | None = None, dwell: float | None = None,
          **attributes: Any) -> Event:
    global _N
    _N += 1
    obj = ObjectInfo(class_name=cls, class_id=0, score=0.9) if cls else None
    start = NOW_MS - 3_600_000 + _N * 1000
    return Event(
        id=f"01a1a666-e467-73b4-bcf1-{_N:012d}", tenant="default", camera_id="gate",
        camera_name="Gate", module=module, type=type_, state=EventState.ENDED, object=obj,
        zone="yard", dwell_s=dwell, attributes=attributes, start_ms=start, updated_ms=start,
        end_ms=start + 1000,
    )


def found(service: SearchService, q: str) -> set[str]:
    response = service.search(SearchRequest(q=q, tz="UTC", limit=100), None, now=NOW_MS)
    return {hit.event.id for hit in response.result.hits}


def test_numeric_conditions_filter_stored_events_by_their_figures(
    store: EventStore, service: SearchService
) -> None:
    crowd_12 = event("occupancy.high", "occupancy", count=12, classes=["person"])
    crowd_8 = event("occupancy.high", "occupancy", count=8, classes=["person"])
    cars_4 = event("occupancy.high", "occupancy", count=4, classes=["car", "truck"])
    cars_2 = event("occupancy.high", "occupancy", count=2, classes=["car"])
    unknown = event("occupancy.high", "occupancy", count=30)  # what it counted is unknown
    fast = event("speeding", "speed", cls="car", max_speed_kmh=104.0)
    slow = event("speeding", "speed", cls="car", max_speed_kmh=72.0)
    no_speed = event("line.crossing", "line", cls="car")
    long_stay = event("loitering", "loitering", cls="person", dwell=900.0)
    short_stay = event("loitering", "loitering", cls="person", dwell=120.0)
    events = [crowd_12, crowd_8, cars_4, cars_2, unknown, fast, slow, no_speed, long_stay,
              short_stay]
    store.upsert_events(events)
    service.index.index_events(events)

    assert found(service, "more than 10 people") == {crowd_12.id}
    assert found(service, "at least 3 cars") == {cars_4.id}
    assert found(service, "fewer than 10 people") == {crowd_8.id}
    # An event without a speed is never faster than anything.
    assert found(service, "faster than 90 km/h") == {fast.id}
    assert found(service, "cars slower than 50 mph") == {slow.id}  # 80.5 km/h
    assert found(service, "loitering longer than 10 minutes") == {long_stay.id}

    # A figure that changes without changing the caption is indexed again.
    grown = crowd_8.model_copy(update={"attributes": {**crowd_8.attributes, "count": 11},
                                       "updated_ms": crowd_8.updated_ms + 1})
    store.upsert_events([grown])
    assert service.index.index_events([grown]) == 1
    assert found(service, "more than 10 people") == {crowd_12.id, crowd_8.id}


def test_a_numeric_condition_is_one_chip_and_its_words_are_accounted_for() -> None:
    parsed = parse("more than 10 people faster than 90 km/h in the last 2 hours", PlaceNames(),
                   now_ms=NOW_MS)
    kinds = {(i.kind, i.meaning) for i in parsed.interpretations}
    assert ("count", "person count > 10") in kinds
    assert ("speed", "speed > 90 km/h") in kinds
    assert any(kind == "time" for kind, _ in kinds)
    roles = {w.word: w.role for w in account(parsed)}
    assert roles["more"] == roles["10"] == roles["people"] == roles["km"] == "filter"
    assert parsed.keywords == []


def test_numbers_that_are_not_conditions_stay_words() -> None:
    parsed = parse("over 3 zones between 2 and 4 pm", PlaceNames(), now_ms=NOW_MS)
    assert not parsed.filters.figures
    assert [i.kind for i in parsed.interpretations] == ["time"]


def test_operator_words_for_colour_direction_tampering_parking_and_abandoned_objects() -> None:
    names = PlaceNames(types=frozenset({"tamper.covered", "tamper.moved", "parking.occupied",
                                        "vehicle.stopped", "abandoned.object", "line.crossing"}))

    def read(q: str) -> set[tuple[str, str]]:
        return {(i.kind, i.meaning) for i in parse(q, names, now_ms=NOW_MS).interpretations}

    assert ("colour", "red") in read("maroon car")
    assert ("direction", "in") in read("cars entering")
    assert ("direction", "out") in read("people leaving")
    assert ("type", "tamper.covered") in read("camera blocked")
    assert ("type", "tamper.moved") in read("camera turned")
    assert ("type", "parking.occupied or vehicle.stopped") in read("double parked van")
    assert ("type", "abandoned.object") in read("suspicious package")
