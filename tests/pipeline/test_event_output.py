"""The event output publishes what queued up together, a lone message at once; when the bus
refuses a publish (NATS unreachable, a stream leader being elected), it keeps the events and
retries in order; it never drops events nor dies."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from tests.security.test_privacy_masks import NoFaceRedactor
from tests.store.conftest import build_event
from vigil.bus import MemoryBus
from vigil.bus.base import BusMessage
from vigil.domain.events import EventMessage, Phase
from vigil.pipeline import output as output_module
from vigil.pipeline.lifecycle import SnapshotRequest
from vigil.pipeline.output import EventOutput
from vigil.store import LocalMediaStore
from vigil.store.media import media_key


class FlakyBus(MemoryBus):
    """Refuses the first `failures` publishes, as a bus whose servers are unreachable does."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def publish(self, message: BusMessage) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise TimeoutError("nats: no response from stream")
        super().publish(message)


def test_refused_publishes_are_retried_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output_module, "PUBLISH_RETRY_S", 0.01)
    bus = FlakyBus(failures=3)
    received = bus.subscribe("test", lossless=True)
    output = EventOutput(bus, LocalMediaStore(tmp_path), NoFaceRedactor())  # type: ignore[arg-type]
    events = [build_event(start_ms=1_795_000_000_000 + i) for i in range(4)]
    for event in events:
        output.submit(EventMessage(phase=Phase.START, event=event), None)
    got = [received.get(timeout=5) for _ in events]
    output.close()
    assert [m.event.id for m in got if isinstance(m, EventMessage)] == [e.id for e in events]
    assert (output.published, output.lost) == (4, 0)


class _RecordingBus(MemoryBus):
    """Records each publish_many call, as NATS makes its batch envelopes of one."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[BusMessage]] = []

    def publish_many(self, messages: Iterable[BusMessage]) -> int:
        batch = list(messages)
        self.calls.append(batch)
        return super().publish_many(batch)


class _SlowMedia(LocalMediaStore):
    """A media store whose first write waits for `go`: the output falls behind meanwhile."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.go = threading.Event()

    def put(self, key: str, data: bytes, content_type: str) -> None:
        assert self.go.wait(10)
        super().put(key, data, content_type)


def test_messages_that_queued_up_are_published_together_in_order(tmp_path: Path) -> None:
    bus, media = _RecordingBus(), _SlowMedia(tmp_path)
    output = EventOutput(bus, media, NoFaceRedactor())  # type: ignore[arg-type]
    events = [build_event(start_ms=1_795_000_000_000 + i) for i in range(51)]
    first = events[0]
    snapshot = SnapshotRequest(media_key(first.tenant, first.camera_id, first.start_ms, first.id),
                               np.zeros((48, 64, 3), np.uint8), 1, None)
    first.snapshot = snapshot.key
    output.submit(EventMessage(phase=Phase.START, event=first), snapshot)
    for event in events[1:]:  # queue behind the snapshot being stored
        output.submit(EventMessage(phase=Phase.END, event=event), None)
    media.go.set()
    output.close()
    # One call for all 51: on NATS a few envelopes instead of 51 JetStream messages.
    assert [len(call) for call in bus.calls] == [51]
    published = [m.event.id for m in bus.calls[0] if isinstance(m, EventMessage)]
    assert published == [event.id for event in events]
    assert media.get(snapshot.key) is not None  # stored before its event was published


def test_a_lone_message_is_published_at_once(tmp_path: Path) -> None:
    bus = _RecordingBus()
    received = bus.subscribe("test", lossless=True)
    output = EventOutput(bus, LocalMediaStore(tmp_path), NoFaceRedactor())  # type: ignore[arg-type]
    event = build_event(start_ms=1_795_000_000_000)
    output.submit(EventMessage(phase=Phase.START, event=event), None)
    # Not held back for company: it arrives while the output is still open.
    got = received.get(timeout=5)
    assert isinstance(got, EventMessage) and got.event.id == event.id
    output.close()
    assert [len(call) for call in bus.calls] == [1]
