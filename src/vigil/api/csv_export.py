"""Events as CSV rows: flat columns, times in ISO 8601 UTC, spreadsheet-safe text."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence

from vigil.api.params import iso
from vigil.domain.events import Event, ObjectInfo

COLUMNS = (
    "id", "tenant", "camera_id", "camera_name", "module", "type", "state", "class_name",
    "class_id", "track_id", "score", "x1", "y1", "x2", "y2", "color", "zone", "line",
    "direction", "dwell_s", "start", "end", "updated", "snapshot", "attributes",
)
# A cell starting with one of these is run as a formula by spreadsheet programs; camera and
# zone names are typed by people, so text cells are defused with a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str | None) -> str:
    if value is None:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _number(value: float | int | None) -> str:
    return "" if value is None else str(value)


def _object_cells(obj: ObjectInfo | None) -> list[str]:
    """Class, class id, track id, score, box corners and colour; empty for scene events
    (tampering, stream health), which concern no object."""
    if obj is None:
        return [""] * 9
    box = obj.box or (None, None, None, None)
    return [
        _text(obj.class_name),
        _number(obj.class_id),
        _number(obj.track_id),
        _number(obj.score),
        *(_number(v) for v in box),
        _text(obj.color),
    ]


def event_row(event: Event) -> list[str]:
    return [
        event.id,
        _text(event.tenant),
        _text(event.camera_id),
        _text(event.camera_name),
        _text(event.module),
        _text(event.type),
        event.state.value,
        *_object_cells(event.object),
        _text(event.zone),
        _text(event.line),
        _text(event.direction),
        _number(event.dwell_s),
        iso(event.start_ms) or "",
        iso(event.end_ms) or "",
        iso(event.updated_ms) or "",
        _text(event.snapshot),
        _text(json.dumps(event.attributes, separators=(",", ":"), default=str))
        if event.attributes
        else "",
    ]


def render(rows: Iterable[Sequence[str]], header: Sequence[str] | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def text_cells(values: Iterable[str | float | int | None]) -> list[str]:
    """Cells of a row: numbers as they are, text defused against spreadsheet formulas."""
    return [_text(v) if isinstance(v, str) or v is None else _number(v) for v in values]
