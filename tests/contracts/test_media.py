"""The media store contract (vigil.store.media.base), one suite over every implementation: a
local directory and S3 (SeaweedFS). Retention relies on `size` and `total_bytes`, the API on a
missing key reading as None and on hostile keys never reaching the store, so both hold here for
both stores."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from vigil.services.seaweedfs import SeaweedServer
from vigil.store.media import InvalidMediaKey, LocalMediaStore, MediaStore, media_key
from vigil.store.media.s3 import S3MediaStore

_places = itertools.count()
Opener = Callable[[], MediaStore]


@pytest.fixture(params=["local", "s3"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens the same store again on each call, as another process or node would."""
    if request.param == "local":
        return lambda: LocalMediaStore(tmp_path / "media")
    # Looked up only here, so that the local cases run without starting SeaweedFS.
    server: SeaweedServer = request.getfixturevalue("seaweed_server")
    prefix = f"contract-{os.getpid()}-{next(_places)}"
    return lambda: S3MediaStore(
        "vigil-contract-media", prefix, endpoint_url=server.s3_endpoint,
        access_key=server.access_key, secret_key=server.secret_key,
    )


@pytest.fixture
def media(open_store: Opener) -> MediaStore:
    return open_store()


def test_round_trip_replace_and_delete(media: MediaStore) -> None:
    key = media_key("default", "cam-a", 1_795_000_000_000, "0191e8c0-0000-7000-8000-000000000000")
    assert key == "default/cam-a/2026-11-18/0191e8c0-0000-7000-8000-000000000000.jpg"
    assert media.get(key) is None and not media.exists(key)
    media.put(key, b"\xff\xd8first", "image/jpeg")
    media.put(key, b"\xff\xd8second", "image/jpeg")
    assert media.get(key) == b"\xff\xd8second" and media.exists(key)
    media.delete(key)
    media.delete(key)  # deleting a missing key is not an error
    assert media.get(key) is None and not media.exists(key)


def test_a_tenants_camera_id_names_its_media(media: MediaStore) -> None:
    """Cameras of tenants other than default have ids 'acme:gate'; their media lie under
    'acme.gate' (keys keep out ':'), apart from a camera 'acme-gate' or 'acme_gate'."""
    when, event = 1_795_000_000_000, "0191e8c0-0000-7000-8000-000000000000"
    key = media_key("acme", "acme:gate", when, event)
    assert key == "acme/acme.gate/2026-11-18/0191e8c0-0000-7000-8000-000000000000.jpg"
    others = {media_key("acme", other, when, event) for other in ("acme-gate", "acme_gate")}
    assert key not in others
    media.put(key, b"\xff\xd8acme", "image/jpeg")
    assert media.get(key) == b"\xff\xd8acme" and media.size(key) == 6


def test_a_prefix_of_other_keys_is_not_an_object(media: MediaStore) -> None:
    media.put("default/cam-a/day/one.jpg", b"\xff\xd8", "image/jpeg")
    assert media.get("default") is None and not media.exists("default/cam-a")
    assert media.size("default/cam-a") is None


def test_sizes_and_total_bytes(media: MediaStore) -> None:
    assert media.total_bytes() == 0 and media.size("a/one.jpg") is None
    media.put("a/one.jpg", b"x" * 1000, "image/jpeg")
    media.put("b/c/two.jpg", b"y" * 2500, "video/mp4")
    assert (media.size("a/one.jpg"), media.size("b/c/two.jpg")) == (1000, 2500)
    assert media.total_bytes() == 3500
    media.put("a/one.jpg", b"x" * 10, "image/jpeg")
    media.delete("b/c/two.jpg")
    assert media.total_bytes() == 10 and media.size("b/c/two.jpg") is None


def test_a_store_opened_again_finds_what_was_stored(open_store: Opener) -> None:
    open_store().put("cam/a.jpg", b"\xff\xd8kept", "image/jpeg")
    again = open_store()
    assert again.get("cam/a.jpg") == b"\xff\xd8kept" and again.total_bytes() == 6


@pytest.mark.parametrize(
    "key",
    [
        "../outside.jpg", "a/../../outside.jpg", "a/..", "..", "/etc/passwd", "a\\b.jpg",
        "a\x00b.jpg", "a b.jpg", "", "a//b.jpg", "./a.jpg", "a/./b.jpg", "a/", "caf\u00e9.jpg",
        "a:b.jpg", "x" * 1025,
    ],
)
def test_hostile_keys_are_rejected(media: MediaStore, tmp_path: Path, key: str) -> None:
    for operation in (
        lambda: media.put(key, b"x", "image/jpeg"), lambda: media.get(key),
        lambda: media.exists(key), lambda: media.delete(key), lambda: media.size(key),
    ):
        with pytest.raises(InvalidMediaKey):
            operation()
    assert not (tmp_path / "outside.jpg").exists()
    assert media.total_bytes() == 0
