"""Numeric conditions of a query ("more than 10 people", "faster than 90 km/h", "at least 3
cars", "longer than 10 minutes") and the figures of an event they compare against.

A condition is a filter only over events that have the figure: an event without a speed is
never "faster than 90 km/h", so it is left out rather than guessed. The figures are stored per
event in the search index (not in the caption, which rounds them to words)."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from vigil.domain.events import Event

Figure = Literal["count", "speed", "duration"]
FIGURES: tuple[Figure, ...] = ("count", "speed", "duration")
_SPEED_KEYS = ("max_speed_kmh", "speed_kmh")
_DURATION_KEYS = ("duration_s",)

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}


@dataclass(frozen=True, slots=True)
class NumericFilter:
    """`figure op value`, e.g. count > 10; speed in km/h, duration in seconds."""

    figure: Figure
    op: str
    value: float
    words: str
    classes: tuple[str, ...] = ()  # "more than 10 people" also means class person

    @property
    def meaning(self) -> str:
        unit = {"count": "", "speed": " km/h", "duration": " s"}[self.figure]
        what = f"{' or '.join(self.classes)} count" if self.classes else self.figure
        return f"{what} {self.op} {_number_text(self.value)}{unit}"


def _number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def event_figures(event: Event) -> tuple[float, float, float, str | None]:
    """(count, speed km/h, duration s, what was counted) of an event; NaN where the event has
    no such figure. What was counted: the classes, comma-separated, "*" for any class, None
    when not known (such a count never matches "more than 10 people")."""
    attributes = event.attributes
    count = attributes.get("count")
    count_value = float(count) if isinstance(count, int | float) and _is_number(count) else (
        math.nan)
    counted = _counted(attributes, event) if count_value == count_value else None
    speed = next((float(attributes[k]) for k in _SPEED_KEYS if _is_number(attributes.get(k))),
                 math.nan)
    if event.dwell_s is not None:
        duration = float(event.dwell_s)
    else:
        duration = next(
            (float(attributes[k]) for k in _DURATION_KEYS if _is_number(attributes.get(k))),
            math.nan)
    return count_value, speed, duration, counted


def _counted(attributes: dict[str, Any], event: Event) -> str | None:
    if "classes" in attributes:
        classes = attributes["classes"]
        if classes is None:
            return "*"
        if isinstance(classes, list) and all(isinstance(c, str) for c in classes):
            return ",".join(sorted(classes))
        return None
    return event.object.class_name if event.object else None


def counts_any(counted: str | None, wanted: tuple[str, ...]) -> bool:
    """Whether a count of `counted` (see `event_figures`) is a count of any `wanted` class."""
    if counted is None:
        return False
    return counted == "*" or not wanted or bool(set(counted.split(",")) & set(wanted))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
        value)


# "more than", "at least", "under" … → operator. Longest first so "no more than" wins.
_COMPARE: tuple[tuple[str, str], ...] = (
    ("no more than", "<="), ("no fewer than", ">="), ("no less than", ">="),
    ("more than", ">"), ("greater than", ">"), ("larger than", ">"), ("over", ">"),
    ("above", ">"), ("at least", ">="), ("minimum of", ">="),
    ("fewer than", "<"), ("less than", "<"), ("under", "<"), ("below", "<"),
    ("at most", "<="), ("up to", "<="), ("maximum of", "<="),
    ("faster than", ">"), ("quicker than", ">"), ("slower than", "<"),
    ("longer than", ">"), ("shorter than", "<"),
)
_COMPARE_RE = "|".join(re.escape(words) for words, _ in sorted(_COMPARE, key=lambda c: -len(c[0])))
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_SPEED_UNITS = {"km/h": 1.0, "kmh": 1.0, "kph": 1.0, "km per hour": 1.0,
                "kilometres per hour": 1.0, "kilometers per hour": 1.0,
                "mph": 1.609344, "miles per hour": 1.609344}
_DURATION_UNITS = {"seconds": 1, "second": 1, "secs": 1, "sec": 1, "s": 1, "minutes": 60,
                   "minute": 60, "mins": 60, "min": 60, "hours": 3600, "hour": 3600,
                   "hrs": 3600, "hr": 3600, "h": 3600}


def _units(table: dict[str, Any]) -> str:
    return "|".join(re.escape(u) for u in sorted(table, key=len, reverse=True))


_RE_SPEED = re.compile(
    rf"\b(?:(?:going|driving|moving|travell?ing|riding)\s+)?({_COMPARE_RE})\s+{_NUMBER}\s*"
    rf"({_units(_SPEED_UNITS)})(?=\W|$)"
)
_RE_DURATION = re.compile(
    rf"\b(?:(?:for|lasting|staying|stayed)\s+)?({_COMPARE_RE})\s+{_NUMBER}\s*"
    rf"({_units(_DURATION_UNITS)})\b"
)
# "more than 10 people", "at least 3 cars", "10+ people": the class word is read by `classes`.
_RE_COUNT = re.compile(rf"\b(?:({_COMPARE_RE})\s+{_NUMBER}|(\d+)\s*\+)\s+([a-z]+)\b")


def read_figures(text: str, classes: Callable[[str], tuple[str, ...] | None]
         ) -> tuple[str, list[NumericFilter]]:
    """The numeric conditions of `text` (normalised) and the text without them.

    `classes` maps a word ("people", "cars") to the object classes it names, or None: a count
    is only a count of something ("more than 10 minutes" is a duration, "over 3 zones" nothing).
    """
    found: list[NumericFilter] = []
    ops = dict(_COMPARE)

    def speed(m: re.Match[str]) -> str:
        value = _float(m.group(2)) * _SPEED_UNITS[m.group(3)]
        found.append(NumericFilter("speed", ops[m.group(1)], round(value, 1), m.group(0).strip()))
        return " "

    def duration(m: re.Match[str]) -> str:
        op = ops[m.group(1)]
        if m.group(1) in ("faster than", "quicker than", "slower than"):
            return m.group(0)
        value = _float(m.group(2)) * _DURATION_UNITS[m.group(3)]
        found.append(NumericFilter("duration", op, value, m.group(0).strip()))
        return " "

    def count(m: re.Match[str]) -> str:
        compare, number, plus, word = m.groups()
        named = classes(word)
        if named is None or compare in ("faster than", "quicker than", "slower than",
                                        "longer than", "shorter than"):
            return m.group(0)
        op, value = (ops[compare], _float(number)) if compare else (">=", float(plus))
        found.append(NumericFilter("count", op, value, m.group(0).strip(), named))
        return " "

    text = _RE_SPEED.sub(speed, text)
    text = _RE_DURATION.sub(duration, text)
    text = _RE_COUNT.sub(count, text)
    return text, found


def _float(text: str) -> float:
    return float(text.replace(",", "."))
