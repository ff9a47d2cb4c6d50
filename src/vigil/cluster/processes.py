"""`vigil worker` with `cluster.processes: N`: N worker processes on one machine (one GPU).

Each process is an ordinary worker of the cluster, named `<id>-<k>`, with an even share of the
capacity and its own detector (its own CUDA context on the shared GPU), so cameras are spread
over them by the cluster's assignment and leases like over any workers, and the tracking and
modules of a thousand cameras use N cores instead of one interpreter's. This parent only starts
them, passes SIGTERM on, and ends them all when one ends, so that whatever supervises
`vigil worker` (systemd, Kubernetes) sees the failure and restarts the group.
"""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import threading
from pathlib import Path

from vigil.services.common import stop_process

_POLL_S = 0.5


def worker_commands(config: Path, base_id: str, capacity: int, processes: int) -> list[list[str]]:
    """The command line of each worker process: one process each (no further split)."""
    share = math.ceil(capacity / processes)
    return [
        [sys.executable, "-m", "vigil", "worker", "--config", str(config),
         "--id", f"{base_id}-{k}", "--capacity", str(share), "--processes", "1"]
        for k in range(processes)
    ]


def run_workers(commands: list[list[str]], stopping: threading.Event) -> int:
    """Run the processes until `stopping` is set or one of them exits; then stop the rest.
    Returns 0 after a requested stop, else the exit code of the process that ended first."""
    children = [subprocess.Popen(command, stdin=subprocess.DEVNULL) for command in commands]
    ended: int | None = None
    try:
        while not stopping.wait(_POLL_S):
            codes = [child.poll() for child in children]
            if any(code is not None for code in codes):
                ended = next(code for code in codes if code is not None)
                break
    finally:
        for child in children:
            stop_process(child, signal.SIGTERM, 30.0)
    return 0 if ended is None else (ended or 1)
