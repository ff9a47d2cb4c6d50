"""A tenant's camera URL is a request the server makes: the source policy must hold it.

Every test runs a real reader against real listeners on loopback addresses and asserts both
what the tenant is told (the camera's status) and whether the forbidden listener was ever
contacted. Each has a control that shows the same setup without the policy does reach it, so
the refusal is the policy's doing and not a broken listener.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.security.listeners import Listener, listening, recording_tcp
from tests.sources.readers import Collector
from tests.waiting import wait_until
from vigil.config import VigilConfig, parse_config
from vigil.sources import CameraReader
from vigil.sources.base import NOT_A_VIDEO_STREAM, REFUSED_BY_POLICY
from vigil.sources.pinning import checked_target, with_address
from vigil.sources.policy import PolicyRefusal, SourcePolicy

# Linux routes all of 127.0.0.0/8 to loopback: the "camera" lives on 127.0.0.2, which a test
# policy admits explicitly, while 127.0.0.1 stays the forbidden internal service.
CAMERA_HOST = "127.0.0.2"
CAMERA_POLICY = SourcePolicy(allow_networks=(ipaddress.ip_network("127.0.0.2/32"),))


@contextmanager
def reading(url: str, policy: SourcePolicy | None, **options: Any) -> Iterator[CameraReader]:
    reader = CameraReader(
        "cam",
        url,
        5.0,
        Collector(),
        policy=policy,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
        open_timeout_s=2.0,
        read_timeout_s=2.0,
        **options,
    )
    reader.start()
    try:
        yield reader
    finally:
        reader.stop()


def error_of(url: str, policy: SourcePolicy | None) -> str:
    with reading(url, policy) as reader:
        return wait_until(lambda: reader.status.last_error, 15)


@pytest.fixture
def internal() -> Iterator[Listener]:
    with listening("127.0.0.1") as listener:
        yield listener


@pytest.fixture
def camera() -> Iterator[Listener]:
    with listening(CAMERA_HOST) as listener:
        yield listener


def test_loopback_service_is_refused_and_never_contacted(internal: Listener) -> None:
    assert error_of(internal.url("/admin"), SourcePolicy()) == REFUSED_BY_POLICY
    assert error_of(internal.url("/admin", host="localhost"), SourcePolicy()) == REFUSED_BY_POLICY
    assert internal.hits == []
    # Control: the administrator's own camera (no policy) does reach it.
    error_of(internal.url("/admin"), None)
    assert internal.hits == ["/admin"]


def test_redirect_to_loopback_is_refused_before_connecting(
    camera: Listener, internal: Listener
) -> None:
    hop = camera.url(f"/redirect?to={internal.url('/secret')}")
    assert error_of(hop, CAMERA_POLICY) == REFUSED_BY_POLICY
    assert camera.hits, "the camera itself is allowed and was asked"
    assert internal.hits == []
    error_of(hop, None)
    assert internal.hits == ["/secret"]


def test_redirect_to_cloud_metadata_is_refused(camera: Listener) -> None:
    hop = camera.url("/redirect?to=http://169.254.169.254/latest/meta-data/")
    assert error_of(hop, CAMERA_POLICY) == REFUSED_BY_POLICY
    hop6 = camera.url("/redirect?to=http://[::ffff:127.0.0.1]:1/")
    assert error_of(hop6, CAMERA_POLICY) == REFUSED_BY_POLICY


def test_dns_rebinding_on_reconnect_is_caught(
    camera: Listener, internal: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that resolves to the camera first and to an internal address at the reconnect.
    No DNS server of ours can be made to answer like that here, so the resolver's answers
    are the one thing replaced; connections and HTTP are real."""
    real = socket.getaddrinfo
    answers = iter([CAMERA_HOST])

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "cam.rebind.test":
            return real(next(answers, "127.0.0.1"), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    # Same port on both addresses: bind the internal service where the camera listens.
    with listening("127.0.0.1") as same_port_internal:
        url = f"http://cam.rebind.test:{camera.port}/mjpeg?frames=2"
        with reading(url, CAMERA_POLICY) as reader:
            wait_until(lambda: reader.status.frames_read >= 1, 15)
            wait_until(lambda: reader.status.last_error == REFUSED_BY_POLICY, 15)
        assert camera.hits and same_port_internal.hits == []
    assert internal.hits == []


def test_server_own_port_is_refused_even_where_loopback_is_allowed(internal: Listener) -> None:
    policy = SourcePolicy(
        allow_networks=(ipaddress.ip_network("127.0.0.0/8"),), own_ports=frozenset({internal.port})
    )
    assert error_of(internal.url("/api/users"), policy) == REFUSED_BY_POLICY
    assert internal.hits == []


def test_rtsp_to_loopback_is_refused_without_a_connection() -> None:
    with recording_tcp() as service:
        url = f"rtsp://user:pw@localhost:{service.port}/stream"
        assert error_of(url, SourcePolicy()) == REFUSED_BY_POLICY
        assert service.connections == 0
        error_of(url, None)  # control: without the policy FFmpeg connects
        wait_until(lambda: service.connections > 0, 10)


def test_rtsp_url_is_pinned_to_the_checked_address() -> None:
    policy = SourcePolicy(allow_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    url = "rtsp://u:p@localhost:8554/a?b=1"
    assert checked_target(url, policy) == ("127.0.0.1", 8554)
    assert with_address(url, "127.0.0.1", 8554) == "rtsp://u:p@127.0.0.1:8554/a?b=1"
    with pytest.raises(PolicyRefusal):
        checked_target("rtsp://localhost/a", SourcePolicy())


# Local files ---------------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path, demo_clip: Path) -> tuple[VigilConfig, Path]:
    """A deployment whose media directory and database lie next to an allowed clip root."""
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "street.mp4").write_bytes(demo_clip.read_bytes())
    config = parse_config(
        {
            "store": {
                "url": f"sqlite:///{tmp_path / 'data' / 'vigil.db'}",
                "media_dir": str(tmp_path / "data" / "media"),
            },
            "sources": {"file_roots": [str(clips)]},
        }
    )
    (tmp_path / "data" / "media" / "alpha").mkdir(parents=True)
    (tmp_path / "data" / "vigil.db").write_bytes(b"SQLite format 3\x00")
    (tmp_path / "data" / "vigil.db-wal").write_bytes(b"wal")
    (tmp_path / "data" / "vigil.key").write_bytes(b"key")
    (tmp_path / "data" / "media" / "alpha" / "snap.jpg").write_bytes(b"\xff\xd8 other tenant")
    return config, clips


@pytest.fixture(scope="session")
def demo_clip() -> Path:
    clip = Path(__file__).resolve().parents[2] / "media" / "vtest.mp4"
    if not clip.is_file():
        pytest.skip("the bundled demo clip is missing")
    return clip


def test_a_clip_under_a_file_root_plays(site: tuple[VigilConfig, Path]) -> None:
    config, clips = site
    policy = SourcePolicy.from_config(config)
    with reading(str(clips / "street.mp4"), policy) as reader:
        wait_until(lambda: reader.status.frames_read > 0, 20)


@pytest.mark.parametrize(
    "spelling",
    [
        "{root}/../data/vigil.db",
        "{root}/../data/vigil.db-wal",
        "{root}/../data/vigil.key",
        "{root}/../data/media/alpha/snap.jpg",
        "file://{root}/../data/vigil.db",
        "{root}/db.mp4",  # a symlink with a video's name to the database
        "{root}/media.jpg",  # a symlink into the media directory
        "{root}/loop/vigil.key",  # a symlinked directory
        "/etc/passwd",
        "/proc/self/environ",
        "relative/../../etc/hosts.mp4",
    ],
)
def test_files_outside_the_roots_or_of_the_store_are_refused(
    site: tuple[VigilConfig, Path], spelling: str
) -> None:
    config, clips = site
    data = clips.parent / "data"
    os.symlink(data / "vigil.db", clips / "db.mp4")
    os.symlink(data / "media" / "alpha" / "snap.jpg", clips / "media.jpg")
    os.symlink(data, clips / "loop")
    policy = SourcePolicy.from_config(config)
    url = spelling.format(root=clips)
    with pytest.raises(PolicyRefusal):
        policy.check_url(url)
    assert error_of(url, policy) == REFUSED_BY_POLICY


def test_store_files_inside_a_root_are_still_refused(tmp_path: Path) -> None:
    """An administrator who lists the data directory itself as a root still does not expose
    the database, key or other tenants' snapshots."""
    config = parse_config(
        {
            "store": {
                "url": f"sqlite:///{tmp_path / 'vigil.db'}",
                "media_dir": str(tmp_path / "m"),
            },
            "sources": {"file_roots": [str(tmp_path)]},
        }
    )
    policy = SourcePolicy.from_config(config)
    for name in ("vigil.db", "vigil.db-wal", "vigil.key", "m/alpha/x.jpg", "site.yaml"):
        with pytest.raises(PolicyRefusal):
            policy.check_url(str(tmp_path / name))
    policy.check_url(str(tmp_path / "clip.mp4"))


def test_tenant_learns_only_the_category(site: tuple[VigilConfig, Path], tmp_path: Path) -> None:
    config, clips = site
    (clips / "notes.mp4").write_text("not a video")
    policy = SourcePolicy.from_config(config)
    assert error_of(str(clips / "notes.mp4"), policy) == NOT_A_VIDEO_STREAM
    # Without the policy (the administrator's camera) the log-level detail is shown.
    detail = error_of(str(clips / "notes.mp4"), None)
    assert "notes.mp4" in detail


def test_config_file_cameras_are_trusted_and_changed_urls_are_not() -> None:
    config = parse_config({"cameras": [{"id": "demo", "url": "media/vtest.mp4"}]})
    policy = SourcePolicy.from_config(config)
    assert policy.trusts("demo", "media/vtest.mp4")
    assert not policy.trusts("demo", "/etc/passwd")
    assert not policy.trusts("other", "media/vtest.mp4")


def test_network_lists_narrow_and_widen_as_documented() -> None:
    def net(*cidrs: str) -> tuple[Any, ...]:
        return tuple(ipaddress.ip_network(c) for c in cidrs)

    default = SourcePolicy()
    default.check_url("rtsp://10.1.2.3/stream")  # private: cameras live there
    default.check_url("http://192.168.0.9/snapshot.jpg")
    default.check_url("rtsps://cam.example.com/stream")  # names are checked when connecting
    for url in (
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://169.254.169.254/",
        "http://[fd00:ec2::254]/",
        "http://0.0.0.0:8080/",
        "rtsp://224.0.0.1/",
        "http://[::ffff:169.254.169.254]/",
        "http://localhost:8080/",
        "http://camera.localhost/",
    ):
        with pytest.raises(PolicyRefusal):
            default.check_url(url)
    narrowed = SourcePolicy(allow_networks=net("10.20.0.0/16"))
    narrowed.check_url("rtsp://10.20.1.1/")
    with pytest.raises(PolicyRefusal):
        narrowed.check_url("rtsp://10.30.1.1/")
    broad = SourcePolicy(allow_networks=net("0.0.0.0/0"))
    with pytest.raises(PolicyRefusal):  # "everything" does not name loopback explicitly
        broad.check_url("http://127.0.0.1:9/")
    denied = SourcePolicy(deny_networks=net("10.9.0.0/16"))
    with pytest.raises(PolicyRefusal):
        denied.check_url("rtsp://10.9.0.1/")
    for url in ("ftp://x/", "gopher://x/", "concat:/etc/passwd|x.mp4", "   "):
        with pytest.raises(ValueError):
            default.check_url(url)


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f000001", "[::ffff:127.0.0.1]"])
def test_other_spellings_of_loopback_are_refused_when_connecting(
    internal: Listener, host: str
) -> None:
    """The resolver turns these into 127.0.0.1; the check is on what it returns."""
    assert error_of(internal.url("/x", host=host), SourcePolicy()) == REFUSED_BY_POLICY
    assert internal.hits == []
