"""Choosing a source from a camera URL, and keeping passwords out of messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.sources import (
    FileSource,
    HttpSource,
    RtspSource,
    SourceKind,
    SourceOptions,
    StillImageSource,
    classify,
    create_source,
    redact,
)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("rtsp://10.0.0.5:554/stream1", SourceKind.RTSP),
        ("RTSPS://cam.example/live", SourceKind.RTSP),
        ("http://10.0.0.5/mjpg/video.mjpg", SourceKind.HTTP),
        ("https://cam.example/snapshot.cgi", SourceKind.HTTP),
        ("media/vtest.mp4", SourceKind.FILE),
        ("/data/clips/gate.MKV", SourceKind.FILE),
        ("file:///data/clips/gate.mp4", SourceKind.FILE),
        ("faces/photo.JPG", SourceKind.IMAGE),
        ("file:///tmp/face%20photo.png", SourceKind.IMAGE),
        ("C:\\clips\\gate.mp4", SourceKind.FILE),
    ],
)
def test_classify(url: str, kind: SourceKind) -> None:
    assert classify(url) is kind


@pytest.mark.parametrize("url", ["ftp://cam/x.mp4", "", "  "])
def test_classify_rejects_what_no_source_reads(url: str) -> None:
    with pytest.raises(ValueError, match="camera URL"):
        classify(url)


def test_create_source_picks_the_implementation() -> None:
    options = SourceOptions(analysis_fps=5.0)
    assert isinstance(create_source("rtsp://h/x", options), RtspSource)
    assert isinstance(create_source("http://h/x", options), HttpSource)
    assert isinstance(create_source("a.png", options), StillImageSource)
    source = create_source("file:///tmp/face%20clip.mp4", options)
    assert isinstance(source, FileSource)
    assert not source.live


def test_file_url_is_decoded_to_a_path(tmp_path: Path) -> None:
    from vigil.domain.source_urls import local_path

    assert local_path("file:///tmp/face%20photo.png") == Path("/tmp/face photo.png")
    assert local_path(str(tmp_path / "a.mp4")) == tmp_path / "a.mp4"


def test_redact_hides_passwords_only() -> None:
    assert redact("rtsp://admin:s3cret@10.0.0.5:554/x") == "rtsp://admin:***@10.0.0.5:554/x"
    assert redact("http://u:p@[fe80::1]/snap.jpg") == "http://u:***@[fe80::1]/snap.jpg"
    assert redact("rtsp://10.0.0.5/x") == "rtsp://10.0.0.5/x"
    assert redact("media/vtest.mp4") == "media/vtest.mp4"
