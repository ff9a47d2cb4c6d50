"""Events as rows of the `events` table: the form bulk ingest works in end to end.

A row is a sequence (a tuple, or a list as JSON gives it) in `COLUMNS` order with the JSON
columns (`box`, `attributes`) as JSON text: what binary COPY takes as it is. The NATS bus
carries batches of events in this form and the store sink writes them without building an
`Event` per message; at tens of thousands of messages a second, a pydantic model per message
(and the garbage collector's work on it) is what would bound the sink, not the database.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Optional, Union, get_args, get_origin

from pydantic import Json, TypeAdapter, ValidationError

from vigil.domain.events import Event, EventMessage, EventState, ObjectInfo, Phase

COLUMNS = (
    "id", "tenant", "camera_id", "camera_name", "module", "type", "state", "class_name",
    "class_id", "track_id", "score", "box", "color", "zone", "line", "direction", "dwell_s",
    "start_ms", "end_ms", "updated_ms", "snapshot", "attributes",
)
JSON_COLUMNS = frozenset({"box", "attributes"})
ID, STATE, START_MS, UPDATED_MS, CLASS_NAME, CLASS_ID, SCORE = (
    COLUMNS.index(name)
    for name in ("id", "state", "start_ms", "updated_ms", "class_name", "class_id", "score")
)
_ENDED = EventState.ENDED.value

# JSON at ingest rates: orjson when it is installed (5-7 times faster at encoding rows), else the
# standard library. Both give text the database and each other read alike (orjson writes NaN as
# null where the standard library writes NaN, which PostgreSQL would refuse).
dumps_bytes: Callable[[Any], bytes]
loads: Callable[[bytes | str], Any]
try:
    import orjson
except ImportError:  # pragma: no cover - depends on the installation
    _encode = json.JSONEncoder(separators=(",", ":")).encode

    def dumps_bytes(value: Any) -> bytes:
        return _encode(value).encode()

    def _dumps(value: Any) -> str:
        return _encode(value)

    loads = json.loads
else:
    dumps_bytes = orjson.dumps

    def _dumps(value: Any) -> str:
        return orjson.dumps(value).decode()

    loads = orjson.loads

Row = Sequence[Any]


def copy_row(event: Event) -> Row:
    """`event` as a row."""
    obj = event.object
    if obj is None:
        klass = class_id = track_id = score = box = color = None
    else:
        klass, class_id, track_id, score, color = (
            obj.class_name, obj.class_id, obj.track_id, obj.score, obj.color
        )
        box = None if obj.box is None else _dumps(obj.box)
    return (
        event.id, event.tenant, event.camera_id, event.camera_name, event.module, event.type,
        event.state.value, klass, class_id, track_id, score, box, color, event.zone, event.line,
        event.direction, event.dwell_s, event.start_ms, event.end_ms, event.updated_ms,
        event.snapshot, _dumps(event.attributes),
    )


def row_event(row: Row) -> Event:
    """The validated `Event` a row holds (the inverse of `copy_row`)."""
    fields = dict(zip(COLUMNS, row, strict=True))
    obj = None
    if fields["class_name"] is not None:
        obj = ObjectInfo(
            class_name=fields["class_name"], class_id=fields["class_id"],
            track_id=fields["track_id"], score=fields["score"],
            box=None if fields["box"] is None else loads(fields["box"]),
            color=fields["color"],
        )
    for name in ("class_name", "class_id", "track_id", "score", "box", "color"):
        del fields[name]
    fields["attributes"] = loads(fields["attributes"])
    return Event.model_validate({**fields, "object": obj})


def _column_type(name: str) -> Any:
    """What `Event` (or its `ObjectInfo`, all of whose columns may be null) accepts in column
    `name`, constraints included; JSON columns as JSON text of that."""
    in_object = name not in Event.model_fields
    field = (ObjectInfo if in_object else Event).model_fields[name]
    kind: Any = field.annotation
    nullable = in_object
    if get_origin(kind) in (Union, types.UnionType) and type(None) in get_args(kind):
        nullable = True
        kind = next(arg for arg in get_args(kind) if arg is not type(None))
    if field.metadata:
        kind = Annotated[kind, *field.metadata]
    if name in JSON_COLUMNS:
        kind = _JSON[kind]
    return Optional[kind] if nullable else kind  # noqa: UP045 - a type built at run time


_JSON: Any = Json
# Rows checked by the event schema itself, without building models (about 1.5 µs a row).
_ROW_TYPE: Any = tuple.__class_getitem__(tuple(_column_type(c) for c in COLUMNS))
_ROWS: TypeAdapter[Any] = TypeAdapter(list[_ROW_TYPE])


def invalid_rows(rows: Sequence[Row]) -> dict[int, str]:
    """The rows (by index) that do not hold an event `Event` would accept, and why: the
    database would store some of them (a score of 1.5, an unknown state) and then no reader
    could load them."""
    problems: dict[int, str] = {}
    try:
        _ROWS.validate_python(rows)
    except ValidationError as error:
        for problem in error.errors():
            where = problem["loc"]
            column = COLUMNS[where[1]] if len(where) > 1 and isinstance(where[1], int) else "row"
            problems.setdefault(int(where[0]), f"{column}: {problem['msg']}")
    for index, row in enumerate(rows):
        if index not in problems and row[CLASS_NAME] is not None and (
            row[CLASS_ID] is None or row[SCORE] is None
        ):
            problems[index] = "an object needs class_id and score"
    return problems


def supersedes(new_ended: bool, new_updated_ms: int, old_ended: bool,
               old_updated_ms: int) -> bool:
    """Whether a new state of an event should replace an old one: an ended event never goes
    back to active; otherwise the later update wins, and on a tie the newer arrival."""
    if new_ended != old_ended:
        return new_ended
    return new_updated_ms >= old_updated_ms


def row_supersedes(new: Row, old: Row) -> bool:
    return supersedes(new[STATE] == _ENDED, new[UPDATED_MS], old[STATE] == _ENDED,
                      old[UPDATED_MS])


def probably_new(row: Row) -> bool:
    """Whether the row holds an event's first state (a start, or an instantaneous event),
    which is not stored yet unless its message is delivered again."""
    return bool(row[UPDATED_MS] == row[START_MS])


@dataclass(slots=True)
class EventRow:
    """An event message as a row: what a row subscription of the bus delivers to the sink."""

    phase: str
    row: Row

    @property
    def id(self) -> str:
        return str(self.row[ID])

    def message(self) -> EventMessage:
        return EventMessage(phase=Phase(self.phase), event=row_event(self.row))
