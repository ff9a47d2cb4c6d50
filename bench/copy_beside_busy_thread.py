"""What a busy Python thread in the same process costs a thread writing to PostgreSQL: the
store sink's situation, whose NATS client thread decodes the next messages while the sink's
thread writes the last batch with binary COPY.

The same events are written as rows with binary COPY in batches of 5,000, each committed, into
a fresh `events` table (the ingest benchmark's raw COPY, `vigil.bench.ingest.raw_copy`): alone
(the baseline), then beside a second thread spinning in pure Python, at the default switch
interval (5 ms) and at 0.5 ms.
Each round trip to the server releases the GIL; getting it back, while the other thread holds
it, waits up to one switch interval. Runs alternate, twice each, on one throwaway server.
Usage: .venv/bin/python bench/copy_beside_busy_thread.py [rows]   (default 100000)
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from vigil.bench import ingest as bench_ingest
from vigil.services.postgres import PostgresServer

BATCH = 5_000
MODES = {"alone": None, "busy thread, 5 ms": 0.005, "busy thread, 0.5 ms": 0.0005}


def spin(stop: threading.Event) -> None:
    total = 0
    while not stop.is_set():
        for i in range(1_000):
            total += i


def quiet(label: str, done: int, total: int) -> None:
    """No progress bars: one line per run instead."""


def main(count: int) -> None:
    settings = bench_ingest.IngestSettings(events=count, end_ms=int(time.time() * 1000))
    events = bench_ingest.make_events(settings)
    directory = Path(tempfile.mkdtemp(prefix="vigil-bench-convoy-"))
    os.chmod(directory, 0o755)  # PostgreSQL runs as its own user when we are root
    results: dict[str, list[float]] = {mode: [] for mode in MODES}
    default_interval = sys.getswitchinterval()
    try:
        with PostgresServer(directory / "postgres") as server:
            for run in range(2):
                for index, (mode, interval) in enumerate(MODES.items()):
                    url = server.create_database(f"convoy_{run}_{index}", extensions=())
                    stop = threading.Event()
                    if interval is not None:
                        sys.setswitchinterval(interval)
                        threading.Thread(target=spin, args=(stop,), daemon=True).start()
                    try:
                        seconds, _ = bench_ingest.raw_copy(url, events, BATCH, quiet)
                        results[mode].append(count / seconds)
                    finally:
                        stop.set()
                        sys.setswitchinterval(default_interval)
                    print(f"run {run + 1}: {mode:22s} {results[mode][-1]:9,.0f} rows/s",
                          flush=True)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    baseline = max(results["alone"])
    print(f"\n{count:,} rows, batches of {BATCH:,}; ratio against the faster run alone")
    for mode, rates in results.items():
        best = max(rates)
        print(f"{mode:22s} best {best:9,.0f} rows/s   ratio {best / baseline:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
