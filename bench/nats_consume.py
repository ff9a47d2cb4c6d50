"""Consuming events from JetStream when every message travels alone (quiet cameras): CPU per
message of Vigil's row subscription (`NatsBus.subscribe_rows`, what the store sink uses: plain
pull requests through `vigil.bus.pull`, a hand-off to the sink's thread, acknowledgements in
batches) against a bare pull loop on the same stream (pull requests of 256 to the consumer's
API subject, each message decoded and acknowledged in the client's callback, no hand-off): the
floor a subscription could approach; and, as the baseline, the way subscriptions pulled before
(nats-py's `fetch` of 64 at a time, which awaits each message with its own timeout; decode and
acknowledge in the same thread, no hand-off). All three decode every envelope the same way;
nothing is written to a database.
Usage: .venv/bin/python bench/nats_consume.py [messages]   (default 40000)
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nats
from nats.js import api

from vigil.bench import ingest as bench_ingest
from vigil.bus.nats import NatsBus
from vigil.bus.nats_codec import decode
from vigil.services.nats import NatsServer

PULL_BATCH = 256


def prefill(url: str, prefix: str, messages: int) -> int:
    """`messages` event messages from so many cameras that nearly each is its own envelope."""
    settings = bench_ingest.IngestSettings(events=messages // 2, cameras=20_000,
                                           end_ms=int(time.time() * 1000))
    outgoing = list(bench_ingest.messages(bench_ingest.make_events(settings), settings.lag))
    bus = NatsBus(url, prefix=prefix)
    try:
        for start in range(0, len(outgoing), bench_ingest.PUBLISH_CHUNK):
            bus.publish_many(outgoing[start:start + bench_ingest.PUBLISH_CHUNK])
    finally:
        bus.close()
    return len(outgoing)


def subscription(url: str, prefix: str, total: int) -> dict[str, float]:
    bus = NatsBus(url, prefix=prefix)
    try:
        rows = bus.subscribe_rows("bench")
        began, cpu = time.perf_counter(), time.process_time()
        got: list[Any] = []
        received = 0
        while received < total and (message := rows.get(timeout=10)) is not None:
            got.append(message)
            received += 1
            if len(got) >= 500:
                rows.ack(got)
                got = []
        rows.ack(got)
        return _figures(received, time.process_time() - cpu, time.perf_counter() - began)
    finally:
        bus.close()


async def bare_pull(url: str, prefix: str, total: int) -> dict[str, float]:
    client = await nats.connect(url)
    stream = f"{prefix.upper()}_EVENTS"
    await client.jetstream().add_consumer(stream, api.ConsumerConfig(
        durable_name="bare", ack_policy=api.AckPolicy.EXPLICIT, max_ack_pending=20_000))
    inbox, subject = client.new_inbox(), f"$JS.API.CONSUMER.MSG.NEXT.{stream}.bare"
    finished = asyncio.Event()
    received = outstanding = 0

    async def request() -> None:
        nonlocal outstanding
        payload = json.dumps({"batch": PULL_BATCH, "expires": 5_000_000_000}).encode()
        await client.publish(subject, payload, reply=inbox)
        outstanding += PULL_BATCH

    async def on_message(msg: Any) -> None:
        nonlocal received, outstanding
        if not msg.data and msg.headers and msg.headers.get("Status"):
            outstanding = 0  # the request ended (no messages, expired): ask again
            await request()
            return
        outstanding -= 1
        received += len(decode(msg.subject, msg.data, msg.headers, rows=True))
        await client.publish(msg.reply, b"+ACK")
        if outstanding < PULL_BATCH // 2:
            await request()
        if received >= total:
            finished.set()

    await client.subscribe(inbox, cb=on_message, pending_msgs_limit=100_000)
    began, cpu = time.perf_counter(), time.process_time()
    await request()
    await asyncio.wait_for(finished.wait(), 300)
    figures = _figures(received, time.process_time() - cpu, time.perf_counter() - began)
    await client.close()
    return figures


async def fetch_loop(url: str, prefix: str, total: int) -> dict[str, float]:
    client = await nats.connect(url)
    stream = f"{prefix.upper()}_EVENTS"
    psub = await client.jetstream().pull_subscribe(
        f"{prefix}.events.>", durable="fetch", stream=stream,
        config=api.ConsumerConfig(ack_policy=api.AckPolicy.EXPLICIT, max_ack_pending=20_000))
    began, cpu = time.perf_counter(), time.process_time()
    received = 0
    while received < total:
        for msg in await psub.fetch(batch=64, timeout=5):
            received += len(decode(msg.subject, msg.data, msg.headers, rows=True))
            await msg.ack()
    figures = _figures(received, time.process_time() - cpu, time.perf_counter() - began)
    await client.close()
    return figures


def _figures(messages: int, cpu_s: float, wall_s: float) -> dict[str, float]:
    return {"messages": messages, "cpu_us_per_message": round(cpu_s / messages * 1e6, 1),
            "messages_per_s": round(messages / wall_s)}


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40_000
    directory = Path(tempfile.mkdtemp(prefix="vigil-bench-consume-"))
    try:
        with NatsServer(directory / "nats") as server:
            before = asyncio.run(fetch_loop(server.url, "fetch",
                                            prefill(server.url, "fetch", count)))
            ours = subscription(server.url, "ours", prefill(server.url, "ours", count))
            bare = asyncio.run(bare_pull(server.url, "bare", prefill(server.url, "bare", count)))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps({
        "nats_py_fetch": before, "subscribe_rows": ours, "bare_pull_loop": bare,
        "fetch_vs_subscribe_rows": round(
            before["cpu_us_per_message"] / ours["cpu_us_per_message"], 1),
        "subscribe_rows_vs_bare": round(
            ours["cpu_us_per_message"] / bare["cpu_us_per_message"], 1),
        "machine": f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}",
    }))


if __name__ == "__main__":
    main()
