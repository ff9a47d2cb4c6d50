"""The event store (SQL), the media store (snapshots) and the sink that feeds the store."""

from vigil.store.cameras import Origin, StoredCamera
from vigil.store.media import InvalidMediaKey, LocalMediaStore, MediaStore, media_key, validate_key
from vigil.store.query import (
    CountQuery,
    CountRow,
    EventPage,
    EventQuery,
    QueryError,
    SeriesQuery,
    SeriesRow,
)
from vigil.store.sink import EventSink, SinkStats
from vigil.store.store import EventStore

__all__ = [
    "CountQuery",
    "CountRow",
    "EventPage",
    "EventQuery",
    "EventSink",
    "EventStore",
    "InvalidMediaKey",
    "LocalMediaStore",
    "MediaStore",
    "Origin",
    "QueryError",
    "SeriesQuery",
    "SeriesRow",
    "SinkStats",
    "StoredCamera",
    "media_key",
    "validate_key",
]
