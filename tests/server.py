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

STARTUP_TIMEOUT_S = 90


@dataclass
class Server:
    url: str
    cameras: list[dict[str, Any]]
    log: Path

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.load(response)


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
def running_server(workdir: Path, cameras: list[dict[str, Any]]) -> Iterator[Server]:
    """Serve `cameras` with a fresh store under `workdir`; stopped by PID on exit."""
    port = free_port()
    config = {
        "server": {"host": "127.0.0.1", "port": port},
        "store": {"url": f"sqlite:///{workdir / 'vigil.db'}", "media_dir": str(workdir / "media")},
        "cameras": cameras,
    }
    config_path = workdir / "vigil.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
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
        yield Server(url, cameras, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
