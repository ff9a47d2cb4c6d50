"""What travels on NATS: subjects, message ids for de-duplication, and the bytes of single
messages and of batch envelopes (many messages of one subject in one JetStream message, events
as rows of the events table; see `vigil.bus.nats` for why).

Pure functions, no connection: the bus, its subscriptions, the benchmarks and the tests encode
and decode with the same code.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import TypeAdapter

from vigil.bus.base import BusMessage, Delivered
from vigil.domain.event_rows import (
    COLUMNS,
    EventRow,
    Row,
    copy_row,
    dumps_bytes,
    invalid_rows,
    loads,
)
from vigil.domain.events import EventMessage
from vigil.domain.series_points import SeriesMessage

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
# Messages per batch envelope, at most (and at most half the server's max_payload in bytes).
ENVELOPE_MAX = 500
BATCH_HEADER = "Vigil-Batch"
_SERIES_BATCH = TypeAdapter(list[SeriesMessage])


@functools.lru_cache(maxsize=4096)  # tenants and cameras repeat: one regex per name, not message
def token(value: str) -> str:
    """`value` made a single subject (and KV key) token: dots, wildcards and spaces become
    '_'; the ':' of a tenant's camera id ('acme:gate') becomes '=', which no id contains, so
    'acme:gate' and a camera 'acme_gate' of another tenant never share a subject or lease."""
    return _UNSAFE.sub(_replacement, value) or "_"


def _replacement(match: re.Match[str]) -> str:
    return "=" if match.group() == ":" else "_"


def subject_for(message: BusMessage, prefix: str = "vigil") -> str:
    if isinstance(message, SeriesMessage):
        first = message.points[0] if message.points else None
        tenant = getattr(first, "tenant", "_") if first else "_"
        camera = getattr(first, "camera_id", "_") if first else "_"
        return f"{prefix}.series.{token(tenant)}.{token(camera)}"
    event = message.event
    return f"{prefix}.events.{token(event.tenant)}.{token(event.camera_id)}"


def message_id(message: BusMessage) -> str | None:
    """JetStream de-duplicates a publish retried after a lost acknowledgement by this id."""
    if isinstance(message, EventMessage):
        event = message.event
        return f"{event.id}:{message.phase}:{event.updated_ms}:{event.state}"
    return None


def encode(message: BusMessage) -> bytes:
    return message.model_dump_json().encode()


def decode(subject: str, data: bytes, headers: dict[str, str] | None = None, *,
           rows: bool = False) -> list[Delivered]:
    """The messages one JetStream message carries: one, or a batch envelope's. With `rows`,
    an envelope's events come as `EventRow`s (for the store sink: checked against the event
    schema, but no model built). An event the schema refuses is logged and left out; the rest
    of its envelope is delivered."""
    series = ".series." in subject
    if headers and BATCH_HEADER in headers:
        if series:
            return list(_SERIES_BATCH.validate_json(data))
        try:
            batch = loads(data)
            phases, event_rows = batch["phases"], _local_rows(batch["columns"], batch["rows"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not an event batch: {error}") from error
        delivered = [EventRow(phase, row) for phase, row in zip(phases, event_rows, strict=True)]
        for index, problem in sorted(invalid_rows(event_rows).items(), reverse=True):
            log.error("nats: invalid event %s on %s dropped: %s; row: %r",
                      delivered[index].id, subject, problem, delivered[index].row)
            del delivered[index]
        if rows:
            return list(delivered)
        return [event.message() for event in delivered]
    if series:
        return [SeriesMessage.model_validate_json(data)]
    return [EventMessage.model_validate_json(data)]


def _local_rows(columns: list[str], rows: list[Row]) -> list[Row]:
    """`rows` in this version's column order (a publisher of another version may differ)."""
    if tuple(columns) == COLUMNS:
        if any(len(row) != len(COLUMNS) for row in rows):
            raise ValueError("an event row does not match its columns")
        return rows
    where = {name: i for i, name in enumerate(columns)}
    picks = [where.get(name) for name in COLUMNS]
    return [tuple(None if i is None else row[i] for i in picks) for row in rows]


def batch_id(subject: str, payload: bytes) -> str:
    """The Nats-Msg-Id of an envelope: a digest of what it carries (the same messages always
    pack into the same bytes), so that publishing it again is recognised as a duplicate."""
    digest = hashlib.blake2b(payload, digest_size=16, key=subject.encode()[:64])
    return "batch:" + digest.hexdigest()


@dataclass(slots=True)
class Outgoing:
    subject: str
    payload: bytes
    headers: dict[str, str] | None
    count: int  # bus messages it carries


def pack(messages: Iterable[BusMessage], prefix: str, max_bytes: int) -> list[Outgoing]:
    """`messages` in batch envelopes: grouped by subject (order kept within each), at most
    ENVELOPE_MAX messages and `max_bytes` each."""
    by_subject: dict[str, list[BusMessage]] = {}
    for message in messages:
        by_subject.setdefault(subject_for(message, prefix), []).append(message)
    out: list[Outgoing] = []
    for subject, group in by_subject.items():
        for start in range(0, len(group), ENVELOPE_MAX):
            _pack_into(out, subject, group[start:start + ENVELOPE_MAX], max_bytes)
    return out


def _pack_into(out: list[Outgoing], subject: str, chunk: list[BusMessage],
               max_bytes: int) -> None:
    if ".series." in subject:
        payload = _SERIES_BATCH.dump_json(
            [message for message in chunk if isinstance(message, SeriesMessage)]
        )
    else:
        events = [message for message in chunk if isinstance(message, EventMessage)]
        payload = dumps_bytes({
            "columns": COLUMNS,
            "phases": [message.phase.value for message in events],
            "rows": [copy_row(message.event) for message in events],
        })
    if len(payload) > max_bytes and len(chunk) > 1:
        half = len(chunk) // 2
        _pack_into(out, subject, chunk[:half], max_bytes)
        _pack_into(out, subject, chunk[half:], max_bytes)
        return
    headers = {BATCH_HEADER: str(len(chunk)), "Nats-Msg-Id": batch_id(subject, payload)}
    out.append(Outgoing(subject, payload, headers, len(chunk)))
