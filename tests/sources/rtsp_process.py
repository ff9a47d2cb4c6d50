"""Runs tools/rtsp_server.py (system Python, GStreamer) as a child process for tests."""

from __future__ import annotations

import select
import subprocess
import time
from pathlib import Path

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "rtsp_server.py"
_GI_CHECK = (
    "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0');"
    " from gi.repository import Gst, GstRtspServer"
)


def rtsp_server_unavailable() -> str | None:
    """Why the GStreamer RTSP server cannot run here, or None if it can."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found"
    check = subprocess.run(
        [SYSTEM_PYTHON, "-c", _GI_CHECK], capture_output=True, text=True, timeout=30
    )
    if check.returncode != 0:
        return (
            f"{SYSTEM_PYTHON} cannot import GstRtspServer (apt-get install gstreamer1.0-rtsp"
            " gir1.2-gst-rtsp-server-1.0 python3-gst-1.0): " + check.stderr.strip().splitlines()[-1]
        )
    return None


class RtspServerProcess:
    """One server process; `start` waits for its ready line, `kill`/`stop` end it by PID."""

    def __init__(self, clip: Path, log_path: Path, port: int = 0, name: str = "cam") -> None:
        self.clip = clip
        self.port = port
        self.name = name
        self._log_path = log_path
        self._proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{self.name}"

    def start(self, timeout_s: float = 15.0) -> None:
        # GStreamer's warnings go to a file: a pipe nobody drains would fill and block it.
        with self._log_path.open("a") as log:
            proc = subprocess.Popen(
                [SYSTEM_PYTHON, str(SERVER_SCRIPT), str(self.clip), str(self.port), self.name],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self._proc = proc
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.1)
            if ready:
                line = proc.stdout.readline()
                if line.startswith("ready rtsp://"):
                    self.port = int(line.split(":")[2].split("/")[0])
                    return
                if not line:
                    break
        self.kill()
        raise RuntimeError(f"RTSP server did not get ready: {self.log()}")

    def log(self) -> str:
        """What the server wrote to stderr so far."""
        return self._log_path.read_text() if self._log_path.exists() else ""

    def kill(self) -> None:
        """Ends the server abruptly, like a camera losing power."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._close_pipe()

    def stop(self) -> int | None:
        """Ends the server with SIGTERM (as an operator would); returns its exit status."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._close_pipe()
        return proc.returncode

    def _close_pipe(self) -> None:
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc = None
