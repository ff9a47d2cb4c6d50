"""`vigil cluster up`: a complete cluster on loopback — NATS JetStream (three nodes, replicas
3), PostgreSQL, SeaweedFS (S3), API node(s) and workers, each its own process — for demos and
fault tests. Everything listens on 127.0.0.1 and is stopped by PID.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vigil.config import ROOT, load_config
from vigil.services.common import ServiceError, stop_process, wait_port
from vigil.services.nats import NatsServer, start_cluster
from vigil.services.postgres import PostgresServer
from vigil.services.seaweedfs import SeaweedServer

DEMO_CONFIG = ROOT / "examples" / "demo.yaml"
MEDIA_BUCKET = "vigil-media"


@dataclass
class Node:
    """One Vigil process of the cluster (an API node or a worker)."""

    name: str
    args: list[str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str]) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "vigil", *self.args], stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is not None:
            stop_process(self.process, signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL, as a crash or a pulled power cord would (fault tests)."""
        if self.running and self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class LocalCluster:
    """A cluster in `directory`. `settings` (a config dict) replaces the demo's cameras and
    any other key of the generated config file."""

    directory: Path
    workers: int = 2
    nats_nodes: int = 3
    api_port: int = 8080
    settings: dict[str, Any] = field(default_factory=dict)
    nats: list[NatsServer] = field(default_factory=list)
    postgres: PostgresServer | None = None
    seaweed: SeaweedServer | None = None
    api: Node | None = None
    worker_nodes: list[Node] = field(default_factory=list)
    config_file: Path | None = None

    def start(self, progress: Callable[[str], None] = lambda step: None) -> LocalCluster:
        self.directory = Path(self.directory).resolve()
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            progress(f"NATS JetStream ({self.nats_nodes} node(s))")
            self.nats = (
                start_cluster(self.directory / "nats", self.nats_nodes)
                if self.nats_nodes > 1
                else [NatsServer(self.directory / "nats").start()]
            )
            progress("PostgreSQL")
            self.postgres = PostgresServer(self.directory / "postgres").start()
            database = self.postgres.create_database("vigil")
            progress("SeaweedFS (S3)")
            self.seaweed = SeaweedServer(self.directory / "seaweedfs").start()
            self.config_file = self._write_config(database)
            progress("API node")
            self.api = Node("api", ["serve", "--config", str(self.config_file), "--demo-login"],
                            self.directory / "logs" / "api.log")
            self.api.start(self._env())
            for _ in range(self.workers):
                progress(f"worker {len(self.worker_nodes) + 1}")
                self.add_worker()
            wait_port(self.api_port, 120, None, self.api.log)
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def add_worker(self) -> Node:
        assert self.config_file is not None, "start the cluster first"
        name = f"worker-{len(self.worker_nodes) + 1}"
        node = Node(name, ["worker", "--config", str(self.config_file), "--id", name],
                    self.directory / "logs" / f"{name}.log")
        node.start(self._env())
        self.worker_nodes.append(node)
        return node

    def login_banner(self, timeout: float = 120.0) -> str:
        """The API node's one-time login link, once it printed it."""
        assert self.api is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.api.log.read_text(errors="replace") if self.api.log.exists() else ""
            if "/api/auth/link?code=" in text and "from another machine)" in text:
                start = text.rindex("Open this one-time login link")
                end = text.index("from another machine)", start)
                return "  " + text[start:end] + "from another machine)"
            if not self.api.running:
                raise ServiceError(f"the API node exited; see {self.api.log}")
            time.sleep(0.2)
        raise ServiceError(f"the API node printed no login link in {timeout:.0f} s; "
                           f"see {self.api.log}")

    def stop(self) -> None:
        """Workers first (their open events end and reach the store), then the API node, then
        the servers."""
        for node in self.worker_nodes:
            node.stop()
        if self.api is not None:
            self.api.stop()
        if self.seaweed is not None:
            self.seaweed.stop()
        if self.postgres is not None:
            self.postgres.stop()
        for server in self.nats:
            server.stop()

    def _env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONUNBUFFERED": "1"}

    def _write_config(self, database: str) -> Path:
        assert self.seaweed is not None
        demo = yaml.safe_load(DEMO_CONFIG.read_text())
        for camera in demo["cameras"]:
            camera["url"] = str(ROOT / camera["url"])
        config: dict[str, Any] = {
            **demo,
            "server": {"host": "127.0.0.1", "port": self.api_port},
            "store": {
                "url": database,
                "media_dir": str(self.directory / "data"),
                "media_url": f"s3://{MEDIA_BUCKET}",
                "s3": {"endpoint": self.seaweed.s3_endpoint,
                       "access_key": self.seaweed.access_key,
                       "secret_key": self.seaweed.secret_key},
            },
            # The workers share this machine's cores rather than each claiming all of them.
            "detector": {**demo.get("detector", {}),
                         "threads": max(1, (os.cpu_count() or 1) // max(1, self.workers))},
            "bus": {"url": ",".join(node.url for node in self.nats),
                    "replicas": min(3, len(self.nats))},
            **self.settings,
        }
        path = self.directory / "cluster.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        load_config(path)  # fail here, with the key named, rather than in every node
        return path

