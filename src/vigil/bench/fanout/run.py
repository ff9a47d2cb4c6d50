"""The coordinator of `vigil bench fanout`: servers, processes, figures."""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil.bench.fanout.load import cameras_of, publish, subscribe
from vigil.services.common import free_port, wait_port

Progress = Callable[[str], None]
MODES = {
    "fanout": "/api/events/stream",
    "baseline": "/baseline/stream",
    # The fan-out with its previous write path (a StreamingResponse task per connection).
    "streaming": "/streaming/stream",
}
P99_TARGET_S = 1.0


@dataclass(frozen=True)
class FanoutSettings:
    subscribers: int = 10_000
    cameras: int = 1_000
    rate: float = 200.0  # events/s
    watched: int = 10  # cameras per subscriber
    duration_s: float = 30.0
    processes: int = 4  # subscriber processes
    baseline_subscribers: int | None = None  # default: as many as the fan-out gets; 0: none
    steps: tuple[int, ...] = ()  # more subscriber counts to try, for the largest that passes
    streaming_subscribers: int = 0  # a run of the previous write path too, at this count


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def _warm_up(port: int, path: str) -> None:
    """One stream opened and closed, so that what the first request initialises once is not
    counted as memory per connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        received = b""
        while b": connected" not in received:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    time.sleep(1.0)


def measure(
    mode: str, count: int, settings: FanoutSettings, nats_url: str, progress: Progress
) -> dict[str, Any]:
    """One API node in `mode` with `count` subscribers; the figures of that run."""
    context = multiprocessing.get_context("spawn")
    prefix = f"b{mode}{count}"
    port = free_port()
    node = subprocess.Popen(
        [sys.executable, "-m", "vigil.bench.fanout.node", str(port), nats_url, prefix, str(count)],
    )
    processes: list[Any] = []
    try:
        wait_port(port, 120, node)  # a loaded machine imports slowly
        _warm_up(port, MODES[mode])
        rss_before = _rss_kib(node.pid)
        connected, stop, results = context.Queue(), context.Event(), context.Queue()
        numbers = list(range(count))
        share = max(1, settings.processes)
        for index in range(share):
            part = numbers[index::share]
            process = context.Process(
                target=subscribe,
                args=(
                    port,
                    MODES[mode],
                    part,
                    settings.cameras,
                    settings.watched,
                    connected,
                    stop,
                    results,
                ),
                daemon=True,
            )
            process.start()
            processes.append(process)
        progress(f"{mode}: connecting {count:,} subscribers")
        started = time.monotonic()
        up = sum(connected.get(timeout=300) for _ in processes)
        connect_s = time.monotonic() - started
        time.sleep(2.0)  # let the node settle before measuring idle memory
        rss_idle = _rss_kib(node.pid)
        go, sent_queue = context.Event(), context.Queue()
        publisher = context.Process(
            target=publish,
            args=(
                nats_url,
                prefix,
                settings.cameras,
                settings.rate,
                settings.duration_s,
                go,
                sent_queue,
            ),
            daemon=True,
        )
        publisher.start()
        processes.append(publisher)
        time.sleep(1.0)  # the publisher's connection is up
        progress(f"{mode}: publishing {settings.rate:g} events/s for {settings.duration_s:g} s")
        load_pids = [process.pid for process in processes[:-1] if process.pid is not None]
        cpu_start, wall_start = _cpu_s(node.pid), time.monotonic()
        load_start = sum(_cpu_s(pid) for pid in load_pids)
        go.set()
        sent: list[int] = sent_queue.get(timeout=settings.duration_s + 120)
        wall = time.monotonic() - wall_start
        cpu = (_cpu_s(node.pid) - cpu_start) / wall
        # The subscriber processes' share, as a check that the load generator kept up.
        load_cpu = (sum(_cpu_s(pid) for pid in load_pids) - load_start) / wall
        time.sleep(3.0)  # what is in flight arrives (or is counted lost)
        stop.set()
        received: dict[int, int] = {}
        notices: dict[int, int] = {}
        delays = array("d")
        errors = 0
        for _ in range(share):
            got, missed, raw, failed = results.get(timeout=120)
            received.update(got)
            notices.update(missed)
            delays.frombytes(raw)
            errors += failed
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
        node.terminate()
        node.wait(10)
    ordered = sorted(delays)
    expected = {
        n: sum(sent[c] for c in cameras_of(n, settings.cameras, settings.watched)) for n in received
    }
    lost = {n: expected[n] - received[n] for n in received if received[n] < expected[n]}
    kept_up = [n for n in received if not notices.get(n)]
    return {
        "mode": mode,
        "subscribers": count,
        "connected": up,
        "connect_errors": errors,
        "ramp_s": round(connect_s, 1),  # subscriber processes' start included
        "events_published": sum(sent),
        "deliveries_expected": sum(expected.values()),
        "deliveries": len(ordered),
        "p50_ms": round(_percentile(ordered, 0.50) * 1000, 1),
        "p99_ms": round(_percentile(ordered, 0.99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
        "subscribers_losing_events": len(lost),
        "events_lost": sum(lost.values()),
        "lost_by_subscribers_that_kept_up": sum(lost.get(n, 0) for n in kept_up),
        "subscribers_told_missed": sum(1 for n in notices.values() if n),
        "idle_kib_per_connection": round((rss_idle - rss_before) / max(up, 1), 1),
        "node_rss_mib": round(rss_idle / 1024, 1),
        "node_cpu_cores": round(cpu, 2),
        "subscriber_processes_cpu_cores": round(load_cpu, 2),
        "meets_target": bool(ordered)
        and _percentile(ordered, 0.99) < P99_TARGET_S
        and not lost
        and up == count,
    }


def run_fanout(settings: FanoutSettings, progress: Progress) -> dict[str, Any]:
    from vigil.services.nats import NatsServer

    directory = Path(tempfile.mkdtemp(prefix="vigil-bench-fanout-"))
    try:
        with NatsServer(directory / "nats", max_memory="256MB") as nats:
            baseline = settings.baseline_subscribers
            plan = [("fanout", settings.subscribers)]
            if settings.streaming_subscribers:
                plan.append(("streaming", settings.streaming_subscribers))
            if baseline != 0:
                plan.append(("baseline", baseline or settings.subscribers))
            plan.extend(("fanout", count) for count in settings.steps)
            runs = []
            for mode, count in plan:
                runs.append(measure(mode, count, settings, nats.url, progress))
                # Each run's figures as soon as they exist: a long run cut short keeps them.
                progress(json.dumps(runs[-1]))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    passing = [
        run["subscribers"] for run in runs if run["mode"] == "fanout" and run["meets_target"]
    ]
    return {
        "settings": {
            "cameras": settings.cameras,
            "events_per_s": settings.rate,
            "cameras_per_subscriber": settings.watched,
            "duration_s": settings.duration_s,
            "subscriber_processes": settings.processes,
        },
        "runs": runs,
        "largest_passing_fanout": max(passing) if passing else None,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared), "
        f"Python {platform.python_version()}",
    }
