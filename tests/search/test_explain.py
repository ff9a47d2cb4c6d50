"""Every word of a query is accounted for: filter (which), ranking or ignored (why)."""

from __future__ import annotations

import pytest

from tests.search.test_query import NAMES, NOW, berlin
from vigil.search.explain import account
from vigil.search.query import parse


def roles(q: str) -> list[tuple[str, str]]:
    return [
        (item.word, item.role) for item in account(parse(q, NAMES, tz="Europe/Berlin", now_ms=NOW))
    ]


def test_each_word_says_what_it_did() -> None:
    assert roles("show me people loitering in the walkway last night with umbrellas") == [
        ("show", "ignored"),
        ("me", "ignored"),
        ("people", "filter"),
        ("loitering", "filter"),
        ("in", "ignored"),
        ("the", "ignored"),
        ("walkway", "filter"),
        ("last", "filter"),
        ("night", "filter"),
        ("with", "ignored"),
        ("umbrellas", "ranking"),
    ]


def test_a_filter_word_names_its_filter_and_an_unknown_word_is_not_required() -> None:
    items = {
        item.word: item
        for item in account(parse("red car plaza zebra", NAMES, tz="Europe/Berlin", now_ms=NOW))
    }
    assert items["car"].why.startswith("class: ")
    assert items["red"].role == "filter" and items["red"].why.startswith("colour: ")
    assert items["plaza"].role == "filter"
    assert items["zebra"].role == "ranking" and "none is left out" in items["zebra"].why


@pytest.mark.parametrize(
    ("q", "hour", "start", "end", "note"),
    [
        (
            "this morning",
            4,
            (2026, 11, 26, 6),
            (2026, 11, 26, 12),
            "this morning has not begun yet (06:00): showing yesterday's morning",
        ),
        ("this morning", 10, (2026, 11, 27, 6), (2026, 11, 27, 12), None),
        (
            "tonight",
            10,
            (2026, 11, 26, 18),
            (2026, 11, 27, 6),
            "tonight has not begun yet (18:00): showing last night",
        ),
        (
            "tonight",
            4,
            (2026, 11, 26, 18),
            (2026, 11, 27, 6),  # the night still going on
            "tonight has not begun yet (18:00): showing last night",
        ),
    ],
)
def test_relative_times_are_the_most_recent_that_has_begun(
    q: str, hour: int, start: tuple[int, ...], end: tuple[int, ...], note: str | None
) -> None:
    parsed = parse(q, NAMES, tz="Europe/Berlin", now_ms=berlin(2026, 11, 27, hour, 30))
    assert (parsed.filters.start_ms, parsed.filters.end_ms) == (berlin(*start), berlin(*end))
    assert parsed.notes == ([note] if note else [])
