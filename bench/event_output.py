"""A worker's event output publishing to NATS JetStream: messages that queued up published
together (batch envelopes, the default) against one message per publish (`PUBLISH_BATCH = 1`,
how the output published before), in the same run, on a throwaway NATS server.

The output is fed as fast as it takes messages, from 16 cameras (a worker's default capacity),
with no snapshots, so what is timed is publishing alone. Printed per mode: messages/s, the
JetStream messages it took, CPU of this process and of nats-server per message; then the ratio.
Usage: .venv/bin/python bench/event_output.py [messages]   (default 20000)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from vigil.bench.cpu_use import tree_cpu_s
from vigil.bench.synthetic import generated_cameras, synthetic_events
from vigil.bus.nats import NatsBus
from vigil.domain.events import EventMessage, Phase
from vigil.pipeline import output as output_module
from vigil.pipeline.output import EventOutput
from vigil.services.nats import NatsServer
from vigil.store import LocalMediaStore

QUEUED_TOGETHER = output_module.PUBLISH_BATCH


class _NoFaces:
    def redact(self, image: object) -> object:  # never called: no snapshots here
        raise AssertionError("no snapshots in this benchmark")


def run(server: NatsServer, messages: list[EventMessage], batch: int, media: Path
        ) -> dict[str, float]:
    output_module.PUBLISH_BATCH = batch
    bus = NatsBus(server.url, prefix=f"out{batch}")
    assert server.process is not None
    try:
        output = EventOutput(bus, LocalMediaStore(media), _NoFaces())  # type: ignore[arg-type]
        began, cpu, nats_cpu = time.perf_counter(), time.process_time(), tree_cpu_s(
            [server.process.pid])
        for message in messages:
            output.submit(message, None)
        output.close()
        seconds = time.perf_counter() - began
        stream = bus.streams()[0][0]
        info = bus.call(bus.js.stream_info(stream), timeout=10)
        n = len(messages)
        return {
            "messages_per_s": round(n / seconds),
            "jetstream_messages": int(info.state.messages),
            "process_cpu_us_per_message": round((time.process_time() - cpu) / n * 1e6, 1),
            "nats_cpu_us_per_message": round(
                (tree_cpu_s([server.process.pid]) - nats_cpu) / n * 1e6, 1),
        }
    finally:
        bus.close()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    events = list(synthetic_events(count, cameras=generated_cameras(16)))
    messages = [EventMessage(phase=Phase.END, event=event) for event in events]
    directory = Path(tempfile.mkdtemp(prefix="vigil-bench-output-"))
    try:
        with NatsServer(directory / "nats") as server:
            one = run(server, messages, 1, directory / "media")
            together = run(server, messages, QUEUED_TOGETHER, directory / "media")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps({"messages": count, "cameras": 16, "one_per_publish": one,
                      "queued_together": together,
                      "ratio": round(together["messages_per_s"] / one["messages_per_s"], 2),
                      "machine": f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"}))


if __name__ == "__main__":
    main()
