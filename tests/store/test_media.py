"""The local media store: round trip, atomic writes, and keys that cannot escape the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vigil.store import InvalidMediaKey, LocalMediaStore, media_key


def test_round_trip_and_delete(tmp_path: Path) -> None:
    media = LocalMediaStore(tmp_path / "media")
    key = media_key("default", "cam-a", 1_795_000_000_000, "0191e8c0-0000-7000-8000-000000000000")
    assert key == "default/cam-a/2026-11-18/0191e8c0-0000-7000-8000-000000000000.jpg"
    assert media.get(key) is None and not media.exists(key)
    media.put(key, b"\xff\xd8first", "image/jpeg")
    media.put(key, b"\xff\xd8second", "image/jpeg")
    assert media.get(key) == b"\xff\xd8second" and media.exists(key)
    # Written through a temporary file and a rename: nothing else is left in the directory.
    assert os.listdir((tmp_path / "media" / key).parent) == [Path(key).name]
    media.delete(key)
    media.delete(key)
    assert media.get(key) is None
    assert media.get("default") is None  # a directory is not an object


@pytest.mark.parametrize(
    "key",
    [
        "../outside.jpg", "a/../../outside.jpg", "a/..", "..", "/etc/passwd", "a\\b.jpg",
        "a\x00b.jpg", "a b.jpg", "", "a//b.jpg", "./a.jpg", "a/./b.jpg", "a/", "caf\u00e9.jpg",
        "a:b.jpg", "x" * 1025,
    ],
)
def test_hostile_keys_are_rejected(tmp_path: Path, key: str) -> None:
    media = LocalMediaStore(tmp_path / "media")
    for operation in (
        lambda: media.put(key, b"x", "image/jpeg"), lambda: media.get(key),
        lambda: media.exists(key), lambda: media.delete(key),
    ):
        with pytest.raises(InvalidMediaKey):
            operation()
    assert not (tmp_path / "outside.jpg").exists()


def test_a_symlink_inside_the_root_cannot_lead_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(b"secret")
    media = LocalMediaStore(tmp_path / "media")
    (tmp_path / "media" / "link").symlink_to(outside)
    with pytest.raises(InvalidMediaKey):
        media.get("link/secret.jpg")
    with pytest.raises(InvalidMediaKey):
        media.put("link/new.jpg", b"x", "image/jpeg")
    assert not (outside / "new.jpg").exists()
