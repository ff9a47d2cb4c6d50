"""Helpers shared by the service launchers: free ports, readiness, unprivileged users."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self


class ServiceError(RuntimeError):
    """A service could not be started or did not become ready."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None,
              log: Path | None = None) -> None:
    """Wait until something accepts connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServiceError(f"process exited with {process.returncode}{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise ServiceError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s{_tail(log)}")


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return "; log tail:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])


@dataclass(frozen=True, slots=True)
class RunAs:
    """Who a service process runs as: the current user, or `postgres`-style system user when
    Vigil runs as root (PostgreSQL refuses to run as root)."""

    uid: int | None = None
    gid: int | None = None

    def popen_kwargs(self) -> dict[str, object]:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def blocked_parent(self, path: Path) -> Path | None:
        """The first directory above `path` that this user may not enter, if any."""
        if self.uid is None:
            return None
        for parent in reversed(Path(path).resolve().parents):
            info = parent.stat()
            allowed = (0o100 if info.st_uid == self.uid
                       else 0o010 if info.st_gid == self.gid else 0o001)
            if not info.st_mode & allowed:
                return parent
        return None

    def own(self, path: Path) -> None:
        if self.uid is not None:
            os.chown(path, self.uid, self.gid if self.gid is not None else -1)


def unprivileged(name: str) -> RunAs:
    """The current user when it is not root; otherwise the system user `name`, created when
    missing."""
    if os.geteuid() != 0:
        return RunAs()
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise ServiceError(f"running as root and there is no user {name!r} to run as") from None
        subprocess.run(
            [useradd, "--system", "--user-group", "--no-create-home",
             "--shell", "/usr/sbin/nologin", name],
            check=True, capture_output=True,
        )
        entry = pwd.getpwnam(name)
    return RunAs(entry.pw_uid, entry.pw_gid)


def stop_process(process: subprocess.Popen[bytes], signal_: int, timeout: float = 20.0) -> None:
    """Send `signal_` to `process` (by its PID), wait, and kill it if it does not exit."""
    if process.poll() is not None:
        return
    process.send_signal(signal_)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


class ServiceProcess(ABC):
    """What every launcher shares: its server process, whether it runs, SIGKILL as a crash
    would do it (fault tests), and use as a context manager (start, then stop)."""

    process: subprocess.Popen[bytes] | None = None

    @abstractmethod
    def start(self, timeout: float = 60.0) -> Self:
        """Start the server (or reuse its running process) and wait until it serves."""

    @abstractmethod
    def stop(self, timeout: float = 20.0) -> None:
        """Stop the server by its PID, gracefully, then by force after `timeout` seconds."""

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

