"""The real `vigil serve` as a subprocess on a free 127.0.0.1 port, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.databases import database_url

STARTUP_TIMEOUT_S = 90


ADMIN = "admin"
ADMIN_PASSWORD = "e2e test password, not a default"


@dataclass
class Server:
    url: str
    cameras: list[dict[str, Any]]
    log: Path
    # An admin of tenant "default" exists (ADMIN / ADMIN_PASSWORD) with this API token.
    token: str = ""
    config: Path | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def open(self, path: str, timeout: float = 10) -> Any:
        """urlopen with the admin's token; use as a context manager."""
        request = urllib.request.Request(self.url + path, headers=self.headers)
        return urllib.request.urlopen(request, timeout=timeout)

    def get_json(self, path: str) -> Any:
        with self.open(path) as response:
            return json.load(response)

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A JSON request as the admin; the decoded answer, or None for an empty one."""
        request = urllib.request.Request(
            self.url + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={**self.headers, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=15) as response:
            text = response.read()
        return json.loads(text) if text else None


def create_admin(config: dict[str, Any]) -> str:
    """The first administrator, as `vigil users create-admin` makes it (no default user
    exists), and an API token for the tests; returns the token."""
    from vigil.auth.roles import Role
    from vigil.auth.store import AuthStore
    from vigil.domain.frames import now_ms
    from vigil.store import EventStore

    store = EventStore(config["store"]["url"])
    try:
        store.migrate()
        users = AuthStore(store.engine)
        user = users.find_user(ADMIN) or users.create_user(
            ADMIN, ADMIN_PASSWORD, Role.ADMIN, "default"
        )
        _token, secret = users.create_token(user.id, "tests", None, now_ms() + 86_400_000)
    finally:
        store.close()
    return secret


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def vigil_command() -> list[str]:
    # The console script installed beside this interpreter (the project's venv).
    script = Path(sys.executable).with_name("vigil")
    assert script.exists(), f"{script} is missing; install the project: pip install -e .[test]"
    return [str(script)]


def _wait_for_health(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"vigil serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(
        f"vigil serve did not answer /healthz in {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-3000:]}"
    )


@contextmanager
def running_server(
    workdir: Path, cameras: list[dict[str, Any]], settings: dict[str, Any] | None = None
) -> Iterator[Server]:
    """Serve `cameras` with a fresh store under `workdir`; stopped by PID on exit. `settings`
    adds top-level config sections (for example `alerts`)."""
    port = free_port()
    config = {
        "server": {"host": "127.0.0.1", "port": port},
        "store": {"url": database_url(workdir), "media_dir": str(workdir / "media")},
        "cameras": cameras,
        **(settings or {}),
    }
    config_path = workdir / "vigil.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    token = create_admin(config)
    log = workdir / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*vigil_command(), "serve", "--config", str(config_path)],
            cwd=workdir,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process, log)
        yield Server(url, cameras, log, token, config_path)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
