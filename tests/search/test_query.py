"""Query understanding: time words in the user's zone, places, classes, colours, types,
directions, what is left for ranking, and refusals of person search."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from vigil.search.query import (
    PlaceNames,
    QueryTextError,
    RefusedQuery,
    check_refusal,
    parse,
)

BERLIN = ZoneInfo("Europe/Berlin")
NAMES = PlaceNames(
    cameras={"north-gate": "North gate", "dock": "Dock", "plaza-east": "Plaza east",
             "plaza-west": "Plaza west"},
    zones=frozenset({"loading zone", "walkway"}),
    lines=frozenset({"gate-in", "lamp-post"}),
    types=frozenset({"zone.presence", "line.crossing", "loitering", "wrong_way", "running",
                     "tamper.covered", "tamper.moved"}),
)
# Friday 2026-11-27 10:30 in Berlin (CET, UTC+1)
NOW = int(datetime(2026, 11, 27, 10, 30, tzinfo=BERLIN).timestamp() * 1000)


def berlin(*args: int) -> int:
    return int(datetime(*args, tzinfo=BERLIN).timestamp() * 1000)  # type: ignore[misc]


def p(q: str, tz: str = "Europe/Berlin", now: int = NOW):  # type: ignore[no-untyped-def]
    return parse(q, NAMES, tz=tz, now_ms=now)


@pytest.mark.parametrize(
    ("q", "start", "end"),
    [
        ("last night", (2026, 11, 26, 18), (2026, 11, 27, 6)),
        ("yesterday 14:00–16:00", (2026, 11, 26, 14), (2026, 11, 26, 16)),
        ("yesterday from 2 to 4 pm", (2026, 11, 26, 14), (2026, 11, 26, 16)),
        ("this morning", (2026, 11, 27, 6), (2026, 11, 27, 12)),
        ("in the last 2 hours", (2026, 11, 27, 8, 30), (2026, 11, 27, 10, 30)),
        ("past 30 minutes", (2026, 11, 27, 10, 0), (2026, 11, 27, 10, 30)),
        # 14:00 today has not come yet at 10:30: the most recent one is yesterday's
        ("between 2 and 4 pm", (2026, 11, 26, 14), (2026, 11, 26, 16)),
        ("between 8 and 10 am", (2026, 11, 27, 8), (2026, 11, 27, 10)),
        ("today", (2026, 11, 27), (2026, 11, 28)),
        ("yesterday", (2026, 11, 26), (2026, 11, 27)),
        ("on monday", (2026, 11, 23), (2026, 11, 24)),
        ("monday afternoon", (2026, 11, 23, 12), (2026, 11, 23, 18)),
        ("on 2026-11-20", (2026, 11, 20), (2026, 11, 21)),
        ("since 8am", (2026, 11, 27, 8), (2026, 11, 27, 10, 30)),
        ("at 3 pm", (2026, 11, 26, 14, 30), (2026, 11, 26, 15, 30)),
        ("last week", (2026, 11, 16), (2026, 11, 23)),
    ],
)
def test_time_expressions_in_the_users_zone(q: str, start: tuple[int, ...],
                                            end: tuple[int, ...]) -> None:
    parsed = p(f"people {q}")
    assert (parsed.filters.start_ms, parsed.filters.end_ms) == (berlin(*start), berlin(*end))
    assert parsed.interpretations[0].kind == "time"
    assert "people" in parsed.semantic_text and q.split()[0] not in parsed.keywords


def test_same_words_other_zone() -> None:
    parsed = p("last night", tz="America/New_York")
    ny = ZoneInfo("America/New_York")
    assert parsed.filters.start_ms == int(datetime(2026, 11, 26, 18, tzinfo=ny).timestamp() * 1000)
    assert parsed.tz == "America/New_York"
    assert p("last night", tz="").tz == "UTC"  # default zone


def test_daylight_saving_day() -> None:
    # 2026-03-29 in Berlin has 23 hours; "yesterday" on the 30th spans exactly them.
    now = berlin(2026, 3, 30, 12)
    parsed = p("yesterday", now=now)
    assert parsed.filters.end_ms - parsed.filters.start_ms == 23 * 3_600_000


def test_parts_of_day_without_a_date_are_hours() -> None:
    parsed = p("trucks at night")
    assert parsed.filters.hours == (22, 6) and parsed.filters.start_ms is None
    assert p("cars in the morning").filters.hours == (6, 12)


def test_numbers_that_are_not_times() -> None:
    parsed = p("2 people near the dock")
    assert parsed.filters.start_ms is None
    assert "2" in parsed.keywords


def test_the_issue_examples() -> None:
    parsed = p("white van in the loading zone last night")
    f = parsed.filters
    assert f.colors == {"white"} and f.classes == {"truck", "car"}
    assert [place.zones for place in f.places] == [frozenset({"loading zone"})]
    assert f.start_ms == berlin(2026, 11, 26, 18)
    assert parsed.keywords == []

    parsed = p("people running near the north gate between 2 and 4 pm")
    f = parsed.filters
    assert f.classes == {"person"} and f.types == {"running"}
    assert [place.cameras for place in f.places] == [frozenset({"north-gate"})]
    assert (f.start_ms, f.end_ms) == (berlin(2026, 11, 26, 14), berlin(2026, 11, 26, 16))
    kinds = [i.kind for i in parsed.interpretations]
    assert kinds == ["time", "type", "place", "class"]


def test_synonyms_types_directions_and_places() -> None:
    assert p("bikes").filters.classes == {"bicycle", "motorcycle"}
    assert p("a lorry").filters.classes == {"truck"}
    assert p("grey car").filters.colors == {"gray"}
    assert p("cars driving the wrong way").filters.types == {"wrong_way"}
    assert p("loitering").filters.types == {"loitering"}
    assert p("tampering").filters.types == {"tamper.covered", "tamper.moved"}
    assert p("crossing gate-in going out").filters.directions == {"out"}
    assert p("crossing gate-in going out").filters.types == {"line.crossing"}
    # a distinctive word of camera names names all of them
    plaza = p("people in the plaza").filters.places
    assert [place.cameras for place in plaza] == [frozenset({"plaza-east", "plaza-west"})]
    assert p("plaza-east").filters.places[0].cameras == frozenset({"plaza-east"})
    assert p("lamp post").filters.places[0].lines == frozenset({"lamp-post"})


def test_a_tenants_camera_is_named_without_its_tenant_prefix() -> None:
    names = PlaceNames(cameras={"acme:yard-north": "acme:yard-north"}, zones=frozenset(),
                       lines=frozenset(), types=NAMES.types)
    for query in ("trucks in yard-north", "trucks in acme:yard-north"):
        places = parse(query, names, tz="Europe/Berlin", now_ms=NOW).filters.places
        assert [place.cameras for place in places] == [frozenset({"acme:yard-north"})], query


def test_types_that_do_not_exist_rank_instead() -> None:
    parsed = p("speeding cars")
    assert parsed.filters.types is None
    assert "speeding" in parsed.keywords
    assert parsed.notes and "speeding" in parsed.notes[0]


def test_leftover_words_rank() -> None:
    parsed = p("show me the DHL truck near the dock")
    assert parsed.keywords == ["dhl"]
    assert parsed.semantic_text == "the dhl truck near the dock"


@pytest.mark.parametrize("q", [
    "find this face", "find this person", "who is this man", "same person on other cameras",
    "track him across cameras", "people who look like this photo", "search by image",
    "identify the driver", "facial recognition", "where did she go", "re-identify the cyclist",
    "person looking like the suspect", "gait analysis",
])
def test_person_search_is_refused(q: str) -> None:
    with pytest.raises(RefusedQuery, match=r"never|does not search"):
        p(q)


@pytest.mark.parametrize("q", [
    "people loitering", "person crossing the lamp post", "a man on a bike", "white van",
    "crowd in the plaza", "someone waiting in the shelter", "pedestrians last night",
])
def test_ordinary_person_events_are_fine(q: str) -> None:
    check_refusal(q)
    p(q)


def test_bad_input() -> None:
    with pytest.raises(QueryTextError, match="tz"):
        p("cars", tz="Mars/Olympus")
    with pytest.raises(QueryTextError, match="500"):
        p("x" * 501)
