"""CPU time of process trees: a server's work in its children counts, running or finished."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from vigil.bench.cpu_use import tree_cpu_s

BURN = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n"


def test_children_count_while_running_and_once_reaped() -> None:
    before = tree_cpu_s([os.getpid()])
    running = subprocess.Popen([sys.executable, "-c", BURN.format(seconds=0.4) +
                                "time.sleep(30)"])
    try:
        time.sleep(0.1)
        deadline = time.monotonic() + 20
        while tree_cpu_s([os.getpid()]) - before < 0.4:
            assert time.monotonic() < deadline, "a running child's CPU time was not counted"
            time.sleep(0.05)
    finally:
        running.kill()
        running.wait()
    reaped = tree_cpu_s([os.getpid()])
    subprocess.run([sys.executable, "-c", BURN.format(seconds=0.3)], check=True)
    # The finished child is gone from /proc; its time is in ours (we reaped it).
    assert tree_cpu_s([os.getpid()]) - reaped >= 0.3


def test_a_process_that_is_gone_counts_nothing() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert tree_cpu_s([child.pid]) == 0.0
