"""Parsing of query and path parameters shared by the routers. Every failure is a QueryError
naming the parameter, which the error handler turns into a 422."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from vigil.domain.namespaces import CAMERA_ID_PATTERN as CAMERA_ID_PATTERN
from vigil.domain.namespaces import MAX_LENGTH
from vigil.domain.namespaces import NAME_PATTERN as NAME_PATTERN
from vigil.store.query import QueryError

CAMERA_ID_MAX = MAX_LENGTH  # 'acme:gate': the tenant's prefix counts
# Alert-rule ids and alert-action names: a name, with its tenant's prefix ('acme:door').
NAMESPACED_PATTERN = CAMERA_ID_PATTERN
EVENT_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
MAX_FILTER_VALUES = 100
MAX_FILTER_LENGTH = 128
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A '+' in an unencoded query string arrives as a space: "08:00:00 01:00" meant "+01:00".
_SPACED_OFFSET = re.compile(r" (\d{2}(:?\d{2})?)$")


def parse_time(value: str | None, param: str) -> int | None:
    """ISO 8601 to epoch ms. 'Z' and offsets are honoured; a time without an offset is UTC."""
    if value is None or not value.strip():
        return None
    text = _SPACED_OFFSET.sub(r"+\1", value.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(
            param, f"{value[:40]!r} is not an ISO 8601 time (example: 2026-11-27T08:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def iso(ms: int | None) -> str | None:
    """Epoch ms to ISO 8601 UTC with millisecond precision and a 'Z'."""
    if ms is None:
        return None
    moment = _EPOCH + timedelta(milliseconds=ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def split_values(values: list[str] | None, param: str) -> list[str] | None:
    """Repeated and comma-separated values of a filter (`camera=a&camera=b` or `camera=a,b`);
    None when the filter is absent or empty."""
    if not values:
        return None
    items = [item.strip() for value in values for item in value.split(",") if item.strip()]
    if len(items) > MAX_FILTER_VALUES:
        raise QueryError(param, f"at most {MAX_FILTER_VALUES} values, got {len(items)}")
    for item in items:
        if len(item) > MAX_FILTER_LENGTH:
            raise QueryError(param, f"values are at most {MAX_FILTER_LENGTH} characters")
    return items or None


def time_range(
    start: str | None, end: str | None, *, default_span_ms: int | None, now_ms: int
) -> tuple[int | None, int | None]:
    """The [start, end) range in epoch ms. With `default_span_ms`, a missing end is now and a
    missing start is end minus the span; without, missing bounds stay open."""
    start_ms, end_ms = parse_time(start, "start"), parse_time(end, "end")
    if default_span_ms is not None:
        end_ms = now_ms if end_ms is None else end_ms
        start_ms = end_ms - default_span_ms if start_ms is None else start_ms
    if start_ms is not None and end_ms is not None and start_ms > end_ms:
        raise QueryError("start", f"{iso(start_ms)} is after end {iso(end_ms)}")
    return start_ms, end_ms
