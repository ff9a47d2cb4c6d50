"""Every word of a query is accounted for: filter (which), ranking or ignored (why)."""

from __future__ import annotations

from tests.search.test_query import NAMES, NOW
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
