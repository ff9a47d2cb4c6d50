"""`vigil worker` with cluster.processes: 2 runs two worker processes on this machine, each a
member of the cluster with half the capacity; SIGTERM to the parent stops both. A real NATS
server and the real `vigil worker` command (each process loads the detector, as on a GPU)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from vigil.bus.nats import NatsBus
from vigil.cluster.registry import ClusterRegistry, WorkerInfo
from vigil.services.nats import NatsServer


def test_a_worker_with_two_processes_joins_as_two_workers_sharing_its_capacity(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    config = tmp_path / "worker.yaml"
    config.write_text(yaml.safe_dump({
        "bus": {"url": nats_server.url, "prefix": "procs"},
        "store": {"url": f"sqlite:///{tmp_path / 'vigil.db'}", "media_dir": str(tmp_path)},
        "cluster": {"worker_id": "gpu", "capacity": 10, "processes": 2},
        "detector": {"threads": 1},
    }))
    bus = NatsBus(nats_server.url, prefix="procs")
    parent = subprocess.Popen([sys.executable, "-m", "vigil", "worker", "--config", str(config)],
                              stdin=subprocess.DEVNULL)
    workers: dict[str, WorkerInfo] = {}
    try:
        registry = ClusterRegistry(bus, ttl_s=3)
        deadline = time.monotonic() + 120
        workers = registry.workers()
        while set(workers) != {"gpu-0", "gpu-1"}:
            assert parent.poll() is None, "the parent worker exited early"
            assert time.monotonic() < deadline, f"workers seen: {sorted(workers)}"
            time.sleep(0.5)
            workers = registry.workers()
        assert {worker.capacity for worker in workers.values()} == {5}
        assert len({worker.pid for worker in workers.values()} | {parent.pid}) == 3
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(60) == 0
        for worker in workers.values():  # both processes are gone with it
            assert subprocess.run(["kill", "-0", str(worker.pid)],
                                  capture_output=True, check=False).returncode != 0
    finally:
        if parent.poll() is None:  # the test failed: end the processes it started, by PID
            parent.kill()
            parent.wait(10)
            for worker in workers.values():
                subprocess.run(["kill", "-9", str(worker.pid)], capture_output=True, check=False)
        bus.close()
