"""Query understanding: plain language to filters, plus the words left over for ranking.

`parse(text, vocabulary, tz=..., now_ms=...)` reads, in this order:

1. **Refusals.** Requests to find or identify a person ("find this face", "who is this man",
   "same person on other cameras", search by photo) raise `RefusedQuery`: Vigil never offers
   them (docs/search.md).
2. **Time**, in the user's IANA time zone: "last night" (yesterday 18:00 to today 06:00),
   "yesterday 14:00-16:00", "this morning", "in the last 2 hours", "between 2 and 4 pm",
   "today", "yesterday", "monday", "2026-11-20", "since 8 am", "at 3 pm" (± 30 min), and
   parts of the day without a date ("at night", "in the morning") as an hour-of-day filter.
   A range without a day is its most recent occurrence.
3. **Places**: camera names and ids, zone and line names (longest phrase first; a distinctive
   word of a name, such as "plaza" of "Plaza east", matches every name that has it).
4. **Numbers** ("more than 10 people", "faster than 90 km/h", "at least 3 cars", "longer than
   10 minutes"): filters over the events that have the figure (vigil.search.figures).
5. **Classes** with synonyms (van → truck or car, bike → bicycle or motorcycle, people →
   person …), **colours**, **event types** ("loitering", "wrong way", "crossing" …; only
   types that exist become filters) and **directions** ("going in", "outbound").

What remains ranks: `semantic_text` (the query without its time words) is embedded, and
`keywords` (the words no filter took, without stop words) go to keyword ranking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vigil.search.captions import PARTS_OF_DAY
from vigil.search.figures import NumericFilter, read_figures

MAX_QUERY = 500


class RefusedQuery(ValueError):
    """The query asks for something Vigil never does (identify or follow a person)."""


class QueryTextError(ValueError):
    """The query cannot be read (too long, unknown time zone)."""


REFUSAL_MESSAGE = (
    "Vigil does not search for people by identity or appearance: no face recognition, no "
    "'find this person', no search by photo, no following one person across cameras "
    "(docs/search.md). Search for what happened instead: object class, vehicle or object "
    "colour, place, time and event type, e.g. 'person loitering in the walkway last night'."
)
_REFUSALS = [re.compile(p) for p in (
    r"\bfaces?\b", r"\bfacial\b", r"\bbiometric", r"\bidentif(y|ied|ies|ying|ication)\b",
    r"\bidentit(y|ies)\b", r"\brecogni[sz]", r"\bre-?identif", r"\bre-?id\b",
    r"\bwho (is|was|are|were)\b", r"\bsame (person|man|woman|guy|individual|people|kid|child)\b",
    r"\b(this|that|these|those) (person|persons|man|men|woman|women|guy|girl|boy|kid|child|"
    r"individual|people|suspect|pedestrian|cyclist)\b",
    r"\b(find|follow|track|trace|locate) (him|her|them|someone|somebody)\b",
    r"\bwhere (did|does|has|is) (he|she|they)\b", r"\b(looks?|looking) like\b", r"\bresembl",
    r"\blook-?alikes?\b", r"\bsimilar (person|people|face|man|woman|guy|individual)\b",
    r"\b(photo|photograph|picture|image|mugshot|selfie)s?\b",
    r"\bgait\b",  # refused: gait matching identifies people and is never offered
    r"\bbody[- ]shape\b", r"\bperson (search|lookup)\b",
)]

WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_STOP_TEXT = (
    "a an the in on at of to for from by with near nearby around close and or any all some "
    "show me find search list give get events event what which where when there is are was "
    "were be been being going coming it its that this those these into onto over under about "
    "after before during between like than then please who i we you my our your camera "
    "cameras cam zone zones line lines area place site happened happening something anything"
)
STOPWORDS = frozenset(_STOP_TEXT.split())
# Words that name a kind of place but never a place by themselves.
_GENERIC_TEXT = "camera cam zone area line place site the of"
_GENERIC_PLACE_WORDS = frozenset(_GENERIC_TEXT.split())

CLASS_SYNONYMS: dict[str, tuple[str, ...]] = {
    "person": ("person",), "persons": ("person",), "people": ("person",),
    "pedestrian": ("person",), "pedestrians": ("person",), "man": ("person",),
    "men": ("person",), "woman": ("person",), "women": ("person",), "child": ("person",),
    "children": ("person",), "kid": ("person",), "kids": ("person",), "someone": ("person",),
    "somebody": ("person",), "human": ("person",), "humans": ("person",),
    "walker": ("person",), "walkers": ("person",), "crowd": ("person",),
    "bicycle": ("bicycle",), "bicycles": ("bicycle",), "cyclist": ("bicycle",),
    "cyclists": ("bicycle",), "bike": ("bicycle", "motorcycle"),
    "bikes": ("bicycle", "motorcycle"),
    "motorcycle": ("motorcycle",), "motorcycles": ("motorcycle",), "motorbike": ("motorcycle",),
    "motorbikes": ("motorcycle",), "scooter": ("motorcycle",), "scooters": ("motorcycle",),
    "moped": ("motorcycle",), "mopeds": ("motorcycle",),
    "car": ("car",), "cars": ("car",), "sedan": ("car",), "suv": ("car",),
    "automobile": ("car",),
    "van": ("truck", "car"), "vans": ("truck", "car"), "minivan": ("car", "truck"),
    "truck": ("truck",), "trucks": ("truck",), "lorry": ("truck",), "lorries": ("truck",),
    "pickup": ("truck",), "hgv": ("truck",),
    "bus": ("bus",), "buses": ("bus",), "coach": ("bus",), "coaches": ("bus",),
    "vehicle": ("car", "truck", "bus", "motorcycle"),
    "vehicles": ("car", "truck", "bus", "motorcycle"),
    "train": ("train",), "trains": ("train",), "tram": ("train",),
    "dog": ("dog",), "dogs": ("dog",), "cat": ("cat",), "cats": ("cat",),
    "bird": ("bird",), "birds": ("bird",), "horse": ("horse",),
    "backpack": ("backpack",), "suitcase": ("suitcase",), "luggage": ("suitcase", "backpack"),
    "handbag": ("handbag",), "umbrella": ("umbrella",), "boat": ("boat",),
    "bench": ("bench",),
}
CLASS_PHRASES: dict[str, tuple[str, ...]] = {
    "traffic light": ("traffic_light",), "fire hydrant": ("fire_hydrant",),
    "stop sign": ("stop_sign",), "parking meter": ("parking_meter",),
    "delivery van": ("truck", "car"), "pickup truck": ("truck",),
}
COLOURS: dict[str, tuple[str, ...]] = {
    "red": ("red",), "orange": ("orange",), "yellow": ("yellow",), "green": ("green",),
    "blue": ("blue",), "purple": ("purple",), "violet": ("purple",), "brown": ("brown",),
    "black": ("black",), "white": ("white",), "gray": ("gray",), "grey": ("gray",),
    "silver": ("gray", "white"), "pink": ("red", "purple"), "navy": ("blue",),
    "beige": ("brown", "white"), "dark": ("black", "gray"),
    "maroon": ("red",), "crimson": ("red",), "scarlet": ("red",), "burgundy": ("red",),
    "gold": ("yellow",), "golden": ("yellow",), "amber": ("orange", "yellow"),
    "tan": ("brown",), "khaki": ("brown",), "bronze": ("brown", "orange"),
    "teal": ("blue", "green"), "turquoise": ("blue", "green"), "cyan": ("blue",),
    "olive": ("green",), "lime": ("green",), "lilac": ("purple",), "magenta": ("purple", "red"),
    "cream": ("white",), "ivory": ("white",), "charcoal": ("black", "gray"),
}
# Phrases that name an event type: resolved against the types that exist; first match wins.
TYPE_PHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("wrong way", ("wrong_way",)), ("wrong-way", ("wrong_way",)),
    ("wrong direction", ("wrong_way",)), ("against traffic", ("wrong_way",)),
    ("against the flow", ("wrong_way",)), ("hanging around", ("loitering",)),
    ("left behind", ("abandoned",)), ("left luggage", ("abandoned",)),
    ("stopped vehicle", ("vehicle.stopped", "stopped_vehicle")),
    ("high occupancy", ("occupancy",)), ("speed limit", ("speeding",)),
    ("too fast", ("speeding",)), ("zone presence", ("zone.presence",)),
    ("line crossing", ("line.crossing",)), ("camera moved", ("tamper.moved",)),
    ("out of focus", ("tamper.defocus",)), ("camera covered", ("tamper.covered",)),
    # Words operators use for tampering, parked and abandoned things.
    ("camera blocked", ("tamper.covered",)), ("lens covered", ("tamper.covered",)),
    ("view blocked", ("tamper.covered",)), ("blocked view", ("tamper.covered",)),
    ("spray painted", ("tamper.covered",)), ("covered", ("tamper.covered",)),
    ("obstructed", ("tamper.covered",)), ("blinded", ("tamper.covered",)),
    ("camera turned", ("tamper.moved",)), ("camera tilted", ("tamper.moved",)),
    ("camera knocked", ("tamper.moved",)), ("repositioned", ("tamper.moved",)),
    ("blurry", ("tamper.defocus",)), ("defocused", ("tamper.defocus",)),
    ("unfocused", ("tamper.defocus",)), ("sabotage", ("tamper",)), ("sabotaged", ("tamper",)),
    ("vandalism", ("tamper",)), ("vandalised", ("tamper",)), ("vandalized", ("tamper",)),
    ("double parked", ("parking", "vehicle.stopped")),
    ("illegally parked", ("parking", "vehicle.stopped")),
    ("illegal parking", ("parking", "vehicle.stopped")),
    ("no parking", ("parking", "vehicle.stopped")), ("stationary", ("vehicle.stopped", "parking")),
    ("idling", ("vehicle.stopped",)), ("suspicious package", ("abandoned",)),
    ("suspicious bag", ("abandoned",)), ("unattended bag", ("abandoned",)),
    ("forgotten", ("abandoned",)), ("dumped", ("abandoned",)), ("dumping", ("abandoned",)),
    ("fly tipping", ("abandoned",)), ("dropped off", ("abandoned",)),
    ("visits", ("zone.presence",)), ("visit", ("zone.presence",)),
    ("visited", ("zone.presence",)), ("presence", ("zone.presence",)),
    ("loitering", ("loitering",)), ("loiter", ("loitering",)), ("loiters", ("loitering",)),
    ("loitered", ("loitering",)), ("lingering", ("loitering",)),
    ("crossing", ("line.crossing",)), ("crossed", ("line.crossing",)),
    ("crosses", ("line.crossing",)), ("crossings", ("line.crossing",)),
    ("speeding", ("speeding",)), ("running", ("running",)), ("runs", ("running",)),
    ("ran", ("running",)), ("jogging", ("running",)), ("sprinting", ("running",)),
    ("abandoned", ("abandoned",)), ("unattended", ("abandoned",)),
    ("intrusion", ("intrusion",)), ("intruder", ("intrusion",)), ("intruders", ("intrusion",)),
    ("trespassing", ("intrusion",)), ("crowded", ("occupancy",)), ("overcrowded", ("occupancy",)),
    ("occupancy", ("occupancy",)), ("queue", ("queue",)), ("queueing", ("queue",)),
    ("queuing", ("queue",)), ("tampering", ("tamper",)), ("tamper", ("tamper",)),
    ("tampered", ("tamper",)), ("motion", ("motion",)), ("dwell", ("dwell",)),
    ("dwelling", ("dwell",)), ("parked", ("parking",)), ("parking", ("parking",)),
    ("offline", ("stream_health", "offline")), ("frozen", ("stream_health", "frozen")),
    ("removed", ("object_removed",)), ("stopped", ("vehicle.stopped", "stopped_vehicle")),
)
DIRECTION_PHRASES: tuple[tuple[str, str], ...] = (
    ("going in", "in"), ("coming in", "in"), ("walking in", "in"), ("inbound", "in"),
    ("inwards", "in"), ("inward", "in"), ("going out", "out"), ("coming out", "out"),
    ("walking out", "out"), ("outbound", "out"), ("outwards", "out"), ("outward", "out"),
    ("entering", "in"), ("entered", "in"), ("enters", "in"), ("entries", "in"), ("entry", "in"),
    ("arriving", "in"), ("arrivals", "in"), ("incoming", "in"), ("driving in", "in"),
    ("exiting", "out"), ("exited", "out"), ("exits", "out"), ("leaving", "out"),
    ("departing", "out"), ("departures", "out"), ("outgoing", "out"), ("driving out", "out"),
)
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15,
            "twenty": 20, "thirty": 30, "few": 3, "couple of": 2}
_UNITS = {"min": 60, "mins": 60, "minute": 60, "minutes": 60, "m": 60, "h": 3600, "hr": 3600,
          "hrs": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400, "days": 86400,
          "week": 604800, "weeks": 604800, "month": 2592000, "months": 2592000}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_PARTS = {name: (start, end) for name, start, end in PARTS_OF_DAY}
_PART_WORDS = {"morning": "morning", "mornings": "morning", "afternoon": "afternoon",
               "afternoons": "afternoon", "evening": "evening", "evenings": "evening",
               "night": "night", "nights": "night", "nighttime": "night",
               "overnight": "night"}


@dataclass(frozen=True, slots=True)
class PlaceNames:
    """Names a query may mention: camera ids and names, zone and line names."""

    cameras: dict[str, str] = field(default_factory=dict)  # id -> display name
    zones: frozenset[str] = frozenset()
    lines: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()  # event types that exist
    modules: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PlaceFilter:
    """One place the query names: any of these cameras, zones or lines."""

    words: str
    cameras: frozenset[str] = frozenset()
    zones: frozenset[str] = frozenset()
    lines: frozenset[str] = frozenset()


@dataclass(slots=True)
class Filters:
    start_ms: int | None = None
    end_ms: int | None = None
    time_label: str | None = None
    hours: tuple[int, int] | None = None  # local [start, end) hours, may wrap midnight
    hours_label: str | None = None
    classes: set[str] | None = None
    colors: set[str] | None = None
    types: set[str] | None = None
    directions: set[str] | None = None
    places: list[PlaceFilter] = field(default_factory=list)
    figures: list[NumericFilter] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Interpretation:
    """One piece of the query read as a filter: which words, and what they became."""

    kind: str  # time, hours, place, class, colour, type, direction, count, speed, duration
    words: str
    meaning: str


@dataclass(slots=True)
class ParsedQuery:
    raw: str
    tz: str
    filters: Filters
    semantic_text: str
    keywords: list[str]
    interpretations: list[Interpretation]
    notes: list[str]


def zone_info(name: str | None, default: str = "UTC") -> ZoneInfo:
    key = (name or default).strip()
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise QueryTextError(
            f"tz: {key[:60]!r} is not an IANA time zone (examples: Europe/Berlin, UTC)"
        ) from None


def normalize(text: str) -> str:
    text = text.lower().replace("–", "-").replace("—", "-").replace("’", "'")
    return re.sub(r"\s+", " ", text).strip()


def name_key(name: str) -> str:
    """Camera, zone and line names as a query spells them: lower case, '-' and '_' as spaces."""
    return " ".join(WORD.findall(normalize(name).replace("_", " ").replace("-", " ")))


def check_refusal(text: str) -> None:
    lowered = normalize(text)
    if any(pattern.search(lowered) for pattern in _REFUSALS):
        raise RefusedQuery(REFUSAL_MESSAGE)


# ----------------------------------------------------------------------------- time


class _Clock:
    def __init__(self, tz: ZoneInfo, now_ms: int) -> None:
        self.tz = tz
        self.now = datetime.fromtimestamp(now_ms / 1000, tz)
        self.today = self.now.date()

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        extra, hour = divmod(hour, 24)
        return datetime.combine(day + timedelta(days=extra), time(hour, minute), self.tz)

    @staticmethod
    def ms(moment: datetime) -> int:
        return int(moment.timestamp() * 1000)


_TIME = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?"
_DAY = (r"(today|yesterday|tonight|(?:last |on )?(?:" + "|".join(_WEEKDAYS) + r")|"
        r"\d{4}-\d{2}-\d{2})")
_RE_RANGE = re.compile(
    r"(?:" + _DAY + r"\s+)?(?:(?:in the )?(?:morning|afternoon|evening)\s+)?"
    r"(?:from|between)?\s*" + _TIME + r"\s*(?:-|to|and|until|till)\s*" + _TIME + r"(?=\W|$)"
)
_RE_LAST = re.compile(
    r"(?:(?:in|within|during|over) (?:the )?)?(?:last|past|previous)\s+"
    r"(\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|"
    r"thirty|few|couple of)?\s*(minutes?|mins?|hours?|hrs?|h|days?|weeks?|months?)\b"
)
_RE_LAST_NIGHT = re.compile(r"\b(last night|tonight|overnight)\b")
_RE_DAY_PART = re.compile(
    r"\b(this|today|yesterday|(?:last |on )?(?:" + "|".join(_WEEKDAYS) + r"))\s+(?:in the\s+)?"
    r"(morning|afternoon|evening|night)\b"
)
_RE_DAY = re.compile(
    r"\b(?:on\s+)?(today|yesterday|this week|last week|this month|last month|"
    r"(?:last\s+)?(?:" + "|".join(_WEEKDAYS) + r")|\d{4}-\d{2}-\d{2}|"
    r"\d{1,2}(?:st|nd|rd|th)?\s+(?:" + "|".join(m[:3] + r"[a-z]*" for m in _MONTHS) + r")|"
    r"(?:" + "|".join(m[:3] + r"[a-z]*" for m in _MONTHS) + r")\s+\d{1,2}(?:st|nd|rd|th)?)\b"
)
_RE_SINCE = re.compile(r"\b(since|after|before|until)\s+" + _TIME + r"(?=\W|$)")
_RE_AT = re.compile(r"\b(?:at|around|about)\s+" + _TIME + r"(?=\W|$)")
_RE_PART = re.compile(
    r"\b(?:(?:at|in the|during the|in|during|by)\s+)?"
    r"(morning|mornings|afternoon|afternoons|evening|evenings|night|nights|nighttime|"
    r"overnight)\b"
)


def _hour(hour_text: str, minute_text: str | None, suffix: str | None) -> tuple[int, int]:
    hour, minute = int(hour_text), int(minute_text or 0)
    if suffix:
        suffix = suffix.replace(".", "")
        if hour == 12:
            hour = 0
        if suffix == "pm":
            hour += 12
    if hour > 24 or minute > 59:
        raise ValueError("not a time")
    return hour, minute


def _day(clock: _Clock, text: str | None) -> date | None:
    """The date a day word means (the most recent one for weekdays), or None."""
    if not text or text in ("this", "tonight"):
        return clock.today if text else None
    text = text.removeprefix("on ").strip()
    if text == "today":
        return clock.today
    if text in ("yesterday", "last"):
        return clock.today - timedelta(days=1)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    last = text.startswith("last ")
    name = text.removeprefix("last ").strip()
    if name in _WEEKDAYS:
        back = (clock.today.weekday() - _WEEKDAYS.index(name)) % 7
        if back == 0 and last:
            back = 7
        return clock.today - timedelta(days=back)
    match = re.fullmatch(
        r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)|([a-z]+)\s+(\d{1,2})(?:st|nd|rd|th)?", text
    )
    if match:
        day_text = match.group(1) or match.group(4)
        month_text = match.group(2) or match.group(3)
        month = next((i + 1 for i, m in enumerate(_MONTHS) if month_text.startswith(m[:3])), 0)
        if month:
            try:
                candidate = date(clock.today.year, month, int(day_text))
            except ValueError:
                return None
            if candidate > clock.today:
                candidate = candidate.replace(year=candidate.year - 1)
            return candidate
    return None


class _TimeParser:
    def __init__(self, clock: _Clock) -> None:
        self.clock = clock
        self.range: tuple[datetime, datetime, str] | None = None
        self.hours: tuple[int, int, str] | None = None
        self.notes: list[str] = []  # what a relative time was taken to mean, when not obvious

    def _set(self, start: datetime, end: datetime, words: str) -> None:
        if self.range is None:
            self.range = (start, end, words.strip())

    def _recent(self, day: date | None, start: tuple[int, int], end: tuple[int, int]
                ) -> tuple[datetime, datetime]:
        c = self.clock
        end_hour = end[0] + (24 if end <= start else 0)
        if day is None:
            day = c.today
            if c.at(day, *start) > c.now:
                day -= timedelta(days=1)
        return c.at(day, *start), c.at(day, end_hour, end[1])

    def parse(self, text: str) -> str:
        """Reads time expressions out of `text`; returns the text without them."""
        text = self._sub(_RE_RANGE, text, self._range)
        text = self._sub(_RE_LAST, text, self._last)
        text = self._sub(_RE_LAST_NIGHT, text, self._last_night)
        text = self._sub(_RE_DAY_PART, text, self._day_part)
        text = self._sub(_RE_SINCE, text, self._since)
        text = self._sub(_RE_AT, text, self._at)
        text = self._sub(_RE_DAY, text, self._whole_day)
        text = self._sub(_RE_PART, text, self._part)
        return text

    @staticmethod
    def _sub(pattern: re.Pattern[str], text: str, handle: object) -> str:
        def replace(match: re.Match[str]) -> str:
            try:
                taken = handle(match)  # type: ignore[operator]
            except ValueError:
                taken = False
            return " " if taken else match.group(0)

        return pattern.sub(replace, text)

    def _range(self, m: re.Match[str]) -> bool:
        day_text, h1, m1, s1, h2, m2, s2 = m.groups()
        if not (s1 or s2 or m1 or m2 or "between" in m.group(0) or "from" in m.group(0)):
            return False  # "2-3 people" is not a time
        if s2 and not s1:
            # "between 2 and 4 pm": the first takes the second's am/pm unless that puts it after
            s1 = s2 if int(h1) % 12 <= int(h2) % 12 else ("am" if s2.startswith("p") else "pm")
        if not s1 and not s2 and not m1 and not m2 and int(h1) < 7 and int(h2) <= 12:
            s1 = s2 = "pm"  # "between 2 and 4": afternoon
        start, end = _hour(h1, m1, s1), _hour(h2, m2, s2)
        day = _day(self.clock, day_text) if day_text else None
        if day_text and day is None:
            return False
        lo, hi = self._recent(day, start, end)
        self._set(lo, hi, m.group(0))
        return True

    def _last(self, m: re.Match[str]) -> bool:
        amount_text, unit = m.groups()
        if amount_text is None and unit in ("week", "month") and "last" in m.group(0):
            return False  # "last week" is the calendar week before this one
        amount = 1 if not amount_text else (
            int(amount_text) if amount_text.isdigit() else _NUMBERS[amount_text])
        seconds = amount * _UNITS[unit]
        self._set(self.clock.now - timedelta(seconds=seconds), self.clock.now, m.group(0))
        return True

    def _last_night(self, m: re.Match[str]) -> bool:
        c = self.clock
        day = c.today if m.group(1) == "tonight" else c.today - timedelta(days=1)
        if m.group(1) == "overnight" and c.now.hour >= 18:
            day = c.today
        if m.group(1) == "tonight" and c.at(day, 18) > c.now:
            # The most recent night that has begun: tonight has not yet.
            day -= timedelta(days=1)
            self.notes.append("tonight has not begun yet (18:00): showing last night")
        self._set(c.at(day, 18), c.at(day, 30), m.group(0))
        return True

    def _day_part(self, m: re.Match[str]) -> bool:
        day = _day(self.clock, m.group(1))
        if day is None:
            return False
        part = m.group(2)
        start, end = (18, 30) if part == "night" else _PARTS[part]
        if m.group(1) == "this" and self.clock.at(day, start) > self.clock.now:
            # "this morning" at 04:30: the most recent morning that has begun is yesterday's.
            day -= timedelta(days=1)
            self.notes.append(f"this {part} has not begun yet ({start:02d}:00): showing "
                              f"yesterday's {part}")
        self._set(self.clock.at(day, start), self.clock.at(day, end), m.group(0))
        return True

    def _since(self, m: re.Match[str]) -> bool:
        word, h, mi, suffix = m.groups()
        if not suffix and not mi:
            return False
        c = self.clock
        hour, minute = _hour(h, mi, suffix)
        moment = c.at(c.today, hour, minute)
        if moment > c.now:
            moment -= timedelta(days=1)
        if word in ("since", "after"):
            self._set(moment, c.now, m.group(0))
        else:
            self._set(datetime.combine(moment.date(), time(0), c.tz), moment, m.group(0))
        return True

    def _at(self, m: re.Match[str]) -> bool:
        h, mi, suffix = m.groups()
        if not suffix and not mi:
            return False
        hour, minute = _hour(h, mi, suffix)
        lo, _ = self._recent(None, (hour, minute), (hour, minute + 1 if minute < 59 else 59))
        self._set(lo - timedelta(minutes=30), lo + timedelta(minutes=30), m.group(0))
        return True

    def _whole_day(self, m: re.Match[str]) -> bool:
        c = self.clock
        text = m.group(1)
        if text in ("this week", "last week"):
            monday = c.today - timedelta(days=c.today.weekday())
            if text == "last week":
                self._set(c.at(monday - timedelta(days=7), 0), c.at(monday, 0), m.group(0))
            else:
                self._set(c.at(monday, 0), c.now, m.group(0))
            return True
        if text == "this month":
            self._set(c.at(c.today.replace(day=1), 0), c.now, m.group(0))
            return True
        if text == "last month":
            first = c.today.replace(day=1)
            previous = (first - timedelta(days=1)).replace(day=1)
            self._set(c.at(previous, 0), c.at(first, 0), m.group(0))
            return True
        day = _day(c, text)
        if day is None:
            return False
        self._set(c.at(day, 0), c.at(day, 24), m.group(0))
        return True

    def _part(self, m: re.Match[str]) -> bool:
        if self.hours is None:
            part = _PART_WORDS[m.group(1)]
            start, end = _PARTS[part]
            self.hours = (start, end, m.group(0).strip())
        return True


def _format_range(start: datetime, end: datetime) -> str:
    if start.time() == time(0) and end == datetime.combine(
        start.date() + timedelta(days=1), time(0), start.tzinfo
    ):
        return f"{start:%a %Y-%m-%d}, all day ({start.tzname()})"
    same_day = start.date() == end.date() or (
        end - start <= timedelta(days=1) and end.time() == time(0)
    )
    if same_day:
        return f"{start:%a %Y-%m-%d %H:%M}–{end:%H:%M} {start.tzname()}"
    return f"{start:%a %Y-%m-%d %H:%M} – {end:%a %Y-%m-%d %H:%M} {end.tzname()}"


# ----------------------------------------------------------------------------- names


class _Places:
    """What a query's words are matched against to find places, built once per set of names:
    every spelling of every place (`table`, also as `phrases`), and each distinctive word of
    those spellings (`words`: "north" alone for "river north")."""

    def __init__(self, table: dict[str, PlaceFilter]) -> None:
        self.table = table
        self.phrases = _Phrases(table)
        found: dict[str, tuple[set[str], set[str], set[str]]] = {}
        for key, place in table.items():
            for word in key.split():
                if len(word) >= 4 and word not in _VOCAB:
                    cameras, zones, lines = found.setdefault(word, (set(), set(), set()))
                    cameras |= place.cameras
                    zones |= place.zones
                    lines |= place.lines
        self.words = {
            word: PlaceFilter(word, frozenset(cameras), frozenset(zones), frozenset(lines))
            for word, (cameras, zones, lines) in found.items()
        }


def _places(names: PlaceNames) -> _Places:
    """The places of `names`, ready to match (cached per set of names)."""
    key = (tuple(sorted(names.cameras.items())), names.zones, names.lines)
    cached = _PLACES.get(key)
    if cached is None:
        if len(_PLACES) > 32:
            _PLACES.clear()
        cached = _PLACES[key] = _Places(_build_phrase_table(names))
    return cached


_PLACES: dict[tuple[object, ...], _Places] = {}


def _build_phrase_table(names: PlaceNames) -> dict[str, PlaceFilter]:
    table: dict[str, dict[str, set[str]]] = {}

    def add(key: str, kind: str, value: str) -> None:
        if key:
            table.setdefault(key, {"cameras": set(), "zones": set(), "lines": set()})[
                kind].add(value)

    for camera_id, camera_name in names.cameras.items():
        # A tenant's camera 'acme:gate' is also "gate" to its users: the prefix is the tenant.
        for spelling in (camera_id, camera_id.rpartition(":")[2], camera_name):
            key = name_key(spelling)
            add(key, "cameras", camera_id)
            trimmed = " ".join(w for w in key.split() if w not in _GENERIC_PLACE_WORDS)
            if trimmed != key:
                add(trimmed, "cameras", camera_id)
    for kind, values in (("zones", names.zones), ("lines", names.lines)):
        for value in values:
            key = name_key(value)
            add(key, kind, value)
            trimmed = " ".join(w for w in key.split() if w not in _GENERIC_PLACE_WORDS)
            if trimmed != key:
                add(trimmed, kind, value)
    return {
        key: PlaceFilter(key, frozenset(v["cameras"]), frozenset(v["zones"]),
                         frozenset(v["lines"]))
        for key, v in table.items()
    }


def _vocabulary_words() -> set[str]:
    words = set(CLASS_SYNONYMS) | set(COLOURS) | set(STOPWORDS) | set(_PART_WORDS)
    for phrase, _ in TYPE_PHRASES:
        words.update(phrase.split())
    return words


_VOCAB = _vocabulary_words()


def resolve_types(concepts: Iterable[str], names: PlaceNames) -> set[str]:
    """Event types that a type concept ('wrong_way', 'loitering', 'tamper') names."""
    found: set[str] = set()
    for concept in concepts:
        for event_type in names.types:
            module = event_type.split(".")[0]
            if (
                event_type == concept
                or event_type.startswith(concept + ".")
                or concept in event_type.split(".")
                or module == concept
                or concept in event_type
            ):
                found.add(event_type)
    return found


class _Phrases:
    """Phrases to find among a query's words, grouped by their number of words, so that a
    query is read once per length rather than once per phrase (the place names of a site are
    hundreds of phrases)."""

    def __init__(self, phrases: Iterable[str]) -> None:
        by_length: dict[int, dict[tuple[str, ...], str]] = {}
        for phrase in phrases:
            words = tuple(phrase.split())
            by_length.setdefault(len(words), {})[words] = phrase
        self.by_length = sorted(by_length.items(), reverse=True)


def _consume_phrases(tokens: list[str], phrases: _Phrases) -> list[tuple[int, int, str]]:
    """(start, end, phrase) of each phrase found in `tokens`, longest first, no overlaps."""
    taken = [False] * len(tokens)
    found = []
    for n, group in phrases.by_length:
        for i in range(len(tokens) - n + 1):
            phrase = group.get(tuple(tokens[i : i + n]))
            if phrase is not None and not any(taken[i : i + n]):
                found.append((i, i + n, phrase))
                for j in range(i, i + n):
                    taken[j] = True
    return sorted(found)


_DIRECTIONS = dict(DIRECTION_PHRASES)
_DIRECTION_PHRASES = _Phrases(_DIRECTIONS)
_TYPES = {name_key(phrase): concepts for phrase, concepts in TYPE_PHRASES}
_TYPE_PHRASES = _Phrases(_TYPES)
_CLASS_PHRASES = _Phrases(CLASS_PHRASES)


def parse(text: str, names: PlaceNames, *, tz: str | None = None, now_ms: int,
          default_tz: str = "UTC") -> ParsedQuery:
    if len(text) > MAX_QUERY:
        raise QueryTextError(f"q: at most {MAX_QUERY} characters")
    check_refusal(text)
    zone = zone_info(tz, default_tz)
    clock = _Clock(zone, now_ms)
    filters = Filters()
    seen: list[Interpretation] = []
    notes: list[str] = []
    lowered = normalize(text)

    # Numbers first: "longer than 10 minutes" is a duration, not a time range.
    lowered, figures = read_figures(lowered, CLASS_SYNONYMS.get)
    for figure in figures:
        filters.figures.append(figure)
        seen.append(Interpretation(figure.figure, figure.words, figure.meaning))
    times = _TimeParser(clock)
    without_time = times.parse(lowered)
    notes.extend(times.notes)
    if times.range is not None:
        start, end, words = times.range
        filters.start_ms, filters.end_ms = _Clock.ms(start), _Clock.ms(end)
        filters.time_label = _format_range(start, end)
        seen.append(Interpretation("time", words, filters.time_label))
    if times.hours is not None:
        lo, hi, words = times.hours
        filters.hours = (lo, hi)
        filters.hours_label = f"{lo:02d}:00–{hi:02d}:00 {zone.key}"
        seen.append(Interpretation("hours", words, f"any day, {filters.hours_label}"))

    tokens = WORD.findall(without_time.replace("-", " ").replace("_", " "))
    used = [False] * len(tokens)

    def take(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        fresh = []
        for i, j, phrase in found:
            if not any(used[i:j]):
                fresh.append((i, j, phrase))
                for k in range(i, j):
                    used[k] = True
        return fresh

    # Directions and event types first: "going in" is not a place, "crossing" is not a word.
    for i, j, phrase in take(_consume_phrases(tokens, _DIRECTION_PHRASES)):
        value = _DIRECTIONS[phrase]
        filters.directions = (filters.directions or set()) | {value}
        seen.append(Interpretation("direction", " ".join(tokens[i:j]), value))
    for i, j, phrase in _consume_phrases(tokens, _TYPE_PHRASES):
        if any(used[i:j]):
            continue
        types = resolve_types(_TYPES[phrase], names)
        words = " ".join(tokens[i:j])
        if not types:
            notes.append(f"no {words!r} events are indexed; the words rank results instead")
            continue
        for k in range(i, j):
            used[k] = True
        filters.types = (filters.types or set()) | types
        seen.append(Interpretation("type", words, " or ".join(sorted(types))))

    # Places: full names (longest first), then distinctive single words of names.
    places = _places(names)
    free = [t if not used[k] else "\0" for k, t in enumerate(tokens)]
    for i, j, phrase in take(_consume_phrases(free, places.phrases)):
        place = places.table[phrase]
        filters.places.append(place)
        seen.append(Interpretation("place", " ".join(tokens[i:j]), _place_meaning(place, names)))
    for k, token in enumerate(tokens):
        if not used[k] and token in places.words:
            used[k] = True
            place = places.words[token]
            filters.places.append(place)
            seen.append(Interpretation("place", token, _place_meaning(place, names)))

    # Classes and colours.
    free = [t if not used[k] else "\0" for k, t in enumerate(tokens)]
    for _i, _j, phrase in take(_consume_phrases(free, _CLASS_PHRASES)):
        filters.classes = (filters.classes or set()) | set(CLASS_PHRASES[phrase])
        seen.append(Interpretation("class", phrase, " or ".join(CLASS_PHRASES[phrase])))
    for k, token in enumerate(tokens):
        if used[k]:
            continue
        if token in CLASS_SYNONYMS:
            used[k] = True
            classes = CLASS_SYNONYMS[token]
            filters.classes = (filters.classes or set()) | set(classes)
            seen.append(Interpretation("class", token, " or ".join(classes)))
        elif token in COLOURS:
            used[k] = True
            colours = COLOURS[token]
            filters.colors = (filters.colors or set()) | set(colours)
            seen.append(Interpretation("colour", token, " or ".join(colours)))

    keywords = [
        t for k, t in enumerate(tokens)
        if not used[k] and t not in STOPWORDS and (len(t) > 1 or t.isdigit())
    ]
    semantic = re.sub(r"\s+", " ", without_time).strip(" ,.;:")
    semantic = re.sub(r"^(?:please\s+)?(?:show(?: me)?|find|search(?: for)?|list|give me)\s+",
                      "", semantic)
    return ParsedQuery(
        raw=text,
        tz=zone.key,
        filters=filters,
        semantic_text=semantic if WORD.search(semantic) else "",
        keywords=list(dict.fromkeys(keywords)),
        interpretations=seen,
        notes=notes,
    )


def _place_meaning(place: PlaceFilter, names: PlaceNames) -> str:
    parts = [f"camera {names.cameras.get(c, c)}" for c in sorted(place.cameras)]
    parts += [f"zone {z}" for z in sorted(place.zones)]
    parts += [f"line {line}" for line in sorted(place.lines)]
    return " or ".join(parts)
