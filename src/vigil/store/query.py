"""What callers may ask of the event store, validated before any SQL is built."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from vigil.domain.events import Event, EventState

MAX_LIMIT = 1000
MAX_BUCKETS = 100_000
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class QueryError(ValueError):
    """A query parameter is out of range or malformed; `param` names it for the caller."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Filters for listing events, newest first. Time bounds apply to `start_ms`:
    `start_ms <= event.start_ms < end_ms`. `tenants=None` means no tenant restriction;
    an empty collection matches nothing."""

    tenants: Collection[str] | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    camera_ids: Collection[str] | None = None
    class_names: Collection[str] | None = None
    module: str | None = None
    type: str | None = None
    zone: str | None = None
    line: str | None = None
    state: EventState | None = None
    limit: int = 50
    cursor: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise QueryError("limit", f"must be between 1 and {MAX_LIMIT}, got {self.limit}")
        check_range(self.start_ms, self.end_ms)
        if self.cursor is not None:
            decode_cursor(self.cursor)


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[Event]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class EventJsonPage:
    """A page of events as one JSON array, rendered by the database
    (`vigil.store.events.page_json`)."""

    items_json: str
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class CountQuery:
    """Line crossings per camera, line, class and direction, and zone entries per camera, zone
    and class, in buckets of `interval_s` aligned to the epoch, over `start_ms <= t < end_ms`.
    A `lines` filter keeps only crossings of those lines, a `zones` filter only entries of those
    zones; with both, each applies to its own kind."""

    start_ms: int
    end_ms: int
    interval_s: int = 60
    tenants: Collection[str] | None = None
    camera_ids: Collection[str] | None = None
    lines: Collection[str] | None = None
    zones: Collection[str] | None = None
    class_names: Collection[str] | None = None

    def __post_init__(self) -> None:
        if self.interval_s < 1:
            raise QueryError("interval", f"must be at least 1 second, got {self.interval_s}")
        check_range(self.start_ms, self.end_ms)
        buckets = (self.end_ms - self.start_ms) // (self.interval_s * 1000)
        if buckets > MAX_BUCKETS:
            raise QueryError(
                "interval",
                f"{self.interval_s} s makes {buckets} buckets over this range; "
                f"at most {MAX_BUCKETS} are allowed, so widen the interval or narrow the range",
            )


@dataclass(slots=True)
class CountRow:
    """One bucket's count of one key. Not frozen: a day of counts is hundreds of rows, and a
    frozen dataclass's __init__ (2.5 times as slow) was 12 % of the count's worker-thread time."""

    bucket_start_ms: int
    camera_id: str
    line: str | None
    zone: str | None
    class_name: str
    direction: str | None
    count: int


def check_range(start_ms: int | None, end_ms: int | None) -> None:
    if start_ms is not None and end_ms is not None and start_ms > end_ms:
        raise QueryError("start", "must not be after end")


def encode_cursor(start_ms: int, event_id: str) -> str:
    """The position after which the next page starts. Opaque to clients; it only encodes the
    sort key (start_ms, id) of the last row, so pages stay stable while new events arrive."""
    raw = f"{start_ms}.{event_id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


T = TypeVar("T")


def newest_first(
    statement: sa.Select[Any], time: sa.ColumnElement[int], id_: sa.ColumnElement[str],
    cursor: str | None, limit: int,
) -> sa.Select[Any]:
    """Keyset pagination, newest first by (time, id): the rows after `cursor`, one more than
    `limit` so that `page` can tell whether another page exists. Events, alerts and any other
    time-sorted table page this one way."""
    after = None if cursor is None else decode_cursor(cursor)
    return keyset(statement, time, id_, after, limit + 1)


def keyset(
    statement: sa.Select[Any], time: sa.ColumnElement[int], id_: sa.ColumnElement[str],
    after: tuple[Any, Any] | None, rows: Any,
) -> sa.Select[Any]:
    """`newest_first` from the (time, id) after which the page starts and the rows it selects,
    as values or as bind parameters (a statement built once and run with each page's)."""
    if after is not None:
        after_time, after_id = after
        statement = statement.where(
            sa.or_(time < after_time, sa.and_(time == after_time, id_ < after_id))
        )
    return statement.order_by(time.desc(), id_.desc()).limit(rows)


def page(
    items: Sequence[T], limit: int, key: Callable[[T], tuple[int, str]]
) -> tuple[list[T], str | None]:
    """The first `limit` of what `newest_first` selected, and the cursor of the next page (None
    on the last page)."""
    kept = list(items[:limit])
    return kept, encode_cursor(*key(kept[-1])) if len(items) > limit else None


def decode_cursor(cursor: str) -> tuple[int, str]:
    invalid = QueryError("cursor", "not a cursor returned by this API; start without one")
    if len(cursor) > 128:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    start, _, event_id = raw.partition(".")
    if not start.isdigit() or len(start) > 16 or not _UUID.match(event_id):
        raise invalid
    return int(start), event_id


@dataclass(frozen=True, slots=True)
class SeriesQuery:
    """Statistics series re-bucketed to `interval_s` (a multiple of the stored minute), over
    `start_ms <= bucket < end_ms`. Empty filters match everything."""

    start_ms: int
    end_ms: int
    interval_s: int = 60
    tenants: Collection[str] | None = None
    camera_ids: Collection[str] | None = None
    modules: Collection[str] | None = None
    metrics: Collection[str] | None = None
    places: Collection[str] | None = None
    class_names: Collection[str] | None = None

    def __post_init__(self) -> None:
        if self.interval_s < 60 or self.interval_s % 60:
            raise QueryError("interval", f"must be a whole number of minutes in seconds (60, "
                                         f"300, 3600 …), got {self.interval_s}")
        check_range(self.start_ms, self.end_ms)
        buckets = (self.end_ms - self.start_ms) // (self.interval_s * 1000)
        if buckets > MAX_BUCKETS:
            raise QueryError("interval", f"gives {buckets} buckets; at most {MAX_BUCKETS}")


@dataclass(frozen=True, slots=True)
class SeriesRow:
    bucket_start_ms: int
    camera_id: str
    module: str
    metric: str
    place: str
    class_name: str
    samples: int
    mean: float
    min: float
    max: float
