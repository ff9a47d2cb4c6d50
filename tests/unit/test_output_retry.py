"""When the bus refuses a publish (NATS unreachable, a stream leader being elected), the event
output keeps the event and retries in order; it never drops events nor dies."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.test_privacy_masks import NoFaceRedactor
from tests.store.conftest import build_event
from vigil.bus import MemoryBus
from vigil.bus.base import BusMessage
from vigil.events import EventMessage, Phase
from vigil.pipeline import output as output_module
from vigil.pipeline.output import EventOutput
from vigil.store import LocalMediaStore


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
