"""The load generator's processes: a publisher at a fixed rate, and subscriber processes each
holding many SSE connections on raw asyncio sockets (an HTTP client library per connection
would measure the client, not the node)."""

from __future__ import annotations

import asyncio
import random
import re
import resource
import time
from array import array
from dataclasses import dataclass, field
from typing import Any

from vigil.domain.events import Event, EventMessage, EventState, ObjectInfo, Phase, uuid7

TENANTS = 10
_SENT = re.compile(rb'"sent":([0-9.]+)')


def camera_tenant(camera: int) -> str:
    return f"t{camera % TENANTS}"


def cameras_of(subscriber: int, cameras: int, watched: int) -> list[int]:
    """The cameras subscriber number `subscriber` watches: the same in every process."""
    return random.Random(subscriber).sample(range(cameras), watched)


def publish(
    nats_url: str, prefix: str, cameras: int, rate: float, duration_s: float, go: Any, result: Any
) -> None:
    """Publish `rate` events/s spread over `cameras` for `duration_s`; put per-camera counts."""
    from vigil.bus.nats import NatsBus

    bus = NatsBus(nats_url, prefix=prefix)
    rng = random.Random(7)
    sent = [0] * cameras
    tick = 0.02
    go.wait()
    started = time.monotonic()
    due = 0.0
    while (now := time.monotonic()) - started < duration_s:
        due += rate * tick
        batch = []
        while due >= 1:
            due -= 1
            camera = rng.randrange(cameras)
            batch.append(_message(camera, sent[camera]))
            sent[camera] += 1
        # One subject per camera, so each message travels alone, but their acknowledgements
        # are awaited together (as an engine's publisher does).
        bus.publish_many(batch)
        time.sleep(max(0.0, tick - (time.monotonic() - now)))
    bus.close()
    result.put(sent)


def _message(camera: int, seq: int) -> EventMessage:
    now = time.time()
    ms = int(now * 1000)
    event = Event(
        id=uuid7(ms),
        tenant=camera_tenant(camera),
        camera_id=f"cam-{camera}",
        camera_name=f"Camera {camera}",
        module="line",
        type="line.crossing",
        state=EventState.ENDED,
        object=ObjectInfo(
            class_name="person", class_id=0, track_id=seq, score=0.9, box=(1.0, 2.0, 30.0, 40.0)
        ),
        line="door",
        direction="in",
        start_ms=ms,
        end_ms=ms,
        updated_ms=ms,
        # Read back by the subscribers: the sequence per camera (loss) and the send time.
        attributes={"seq": seq, "sent": now},
    )
    return EventMessage(phase=Phase.START, event=event)


@dataclass
class Tally:
    """What one subscriber process saw."""

    received: dict[int, int] = field(default_factory=dict)  # subscriber -> events
    missed_notices: dict[int, int] = field(default_factory=dict)
    delays: array[float] = field(default_factory=lambda: array("d"))
    connect_errors: int = 0


async def _subscriber(
    number: int,
    port: int,
    path: str,
    cameras: list[int],
    tally: Tally,
    connected: asyncio.Queue[bool],
) -> None:
    query = "&".join(f"camera=cam-{c}" for c in cameras)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        writer.write(f"GET {path}?{query} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head[:100])
    except (OSError, asyncio.IncompleteReadError, ConnectionError):
        tally.connect_errors += 1
        await connected.put(False)
        return
    await connected.put(True)
    tally.received[number] = 0
    delays, count, missed, rest = tally.delays, 0, 0, b""
    try:
        # No timeout per read: thousands of idle connections must cost the load generator
        # nothing; the process cancels its readers when told to stop.
        while True:
            data = await reader.read(65536)
            if not data:
                break
            now = time.time()
            lines = (rest + data).split(b"\n")
            rest = lines.pop()
            for line in lines:
                if line.startswith(b"data: {"):
                    match = _SENT.search(line)
                    if match:
                        count += 1
                        delays.append(now - float(match.group(1)))
                elif line == b"event: missed":
                    missed += 1
    except asyncio.CancelledError:
        pass  # told to stop
    finally:
        tally.received[number] = count
        tally.missed_notices[number] = missed
        writer.close()


def subscribe(
    port: int,
    path: str,
    numbers: list[int],
    cameras: int,
    watched: int,
    connected: Any,
    stop: Any,
    result: Any,
) -> None:
    """Hold one SSE connection per subscriber number until `stop` is set; put the Tally."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    async def run() -> Tally:
        tally = Tally()
        up: asyncio.Queue[bool] = asyncio.Queue()
        tasks = []
        for start in range(0, len(numbers), 100):  # 100 connects in flight at a time
            for number in numbers[start : start + 100]:
                tasks.append(
                    asyncio.create_task(
                        _subscriber(
                            number,
                            port,
                            path,
                            cameras_of(number, cameras, watched),
                            tally,
                            up,
                        )
                    )
                )
            for _ in numbers[start : start + 100]:
                await up.get()
        connected.put(len(numbers) - tally.connect_errors)
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return tally

    tally = asyncio.run(run())
    result.put((tally.received, tally.missed_notices, tally.delays.tobytes(), tally.connect_errors))
