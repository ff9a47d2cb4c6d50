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
        "vigil-contract-media",
        prefix,
        endpoint_url=server.s3_endpoint,
        access_key=server.access_key,
        secret_key=server.secret_key,
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


def test_appended_pieces_read_back_by_offset(open_store: Opener) -> None:
    """A recording hour file: segments appended, each read back by (offset, length) through
    another instance (another API node), the whole sized and deleted as one key."""
    media = open_store()
    key = "recordings/t/cam/2026-12-07/01/1-abc.seg"
    pieces = [b"first" * 10, b"second" * 100, b"third"]
    offsets = [media.append(key, piece) for piece in pieces]
    media.sync([key])
    assert offsets == [0, 50, 650]
    reader = open_store()
    for offset, piece in zip(offsets, pieces, strict=True):
        assert reader.read_range(key, offset, len(piece)) == piece
    assert reader.read_range(key, 650, 6) is None  # not all stored
    assert reader.read_range("recordings/t/cam/none.seg", 0, 5) is None
    assert reader.size(key) == 655 and reader.exists(key) and reader.total_bytes() == 655
    reader.delete(key)
    assert reader.read_range(key, 0, 50) is None and reader.total_bytes() == 0


def test_truncate_cuts_an_unindexed_tail_and_appends_continue(open_store: Opener) -> None:
    """The orphan sweep: a crashed writer's pieces past the last indexed one are cut off; a
    writer that appends again (this process or a new one) continues at the cut."""
    media = open_store()
    key = "recordings/t/cam/2026-12-07/01/2-abc.seg"
    media.append(key, b"a" * 10)
    media.append(key, b"b" * 20)
    media.append(key, b"c" * 30)
    media.sync([key])
    media.truncate(key, 10)
    assert media.size(key) == 10 and media.read_range(key, 10, 20) is None
    assert media.append(key, b"d" * 5) == 10
    media.sync([key])
    media.end_append(key)
    assert open_store().append(key, b"e") == 15
    assert media.read_range(key, 0, 10) == b"a" * 10 and media.read_range(key, 10, 5) == b"d" * 5
    media.truncate(key, 0)
    assert not media.exists(key)


def test_whole_objects_read_by_range(media: MediaStore) -> None:
    """Segments recorded one per file before hour files existed are read the same way."""
    media.put("recordings/t/cam/old.ts.sealed", b"0123456789", "application/octet-stream")
    assert media.read_range("recordings/t/cam/old.ts.sealed", 0, 10) == b"0123456789"
    assert media.read_range("recordings/t/cam/old.ts.sealed", 0, 11) is None


def test_delete_prefix_removes_an_hour_whatever_it_holds(media: MediaStore) -> None:
    media.put("recordings/t/cam/d/01/old.ts.sealed", b"x" * 7, "application/octet-stream")
    media.append("recordings/t/cam/d/01/1-a.seg", b"y" * 11)
    media.append("recordings/t/cam/d/02/1-a.seg", b"z" * 13)
    media.sync(["recordings/t/cam/d/01/1-a.seg", "recordings/t/cam/d/02/1-a.seg"])
    assert media.delete_prefix("recordings/t/cam/d/01") == 18
    assert media.total_bytes() == 13
    assert media.read_range("recordings/t/cam/d/02/1-a.seg", 0, 13) == b"z" * 13
    assert media.delete_prefix("recordings/t/cam/d/09") == 0


@pytest.mark.parametrize(
    "key",
    [
        "../outside.jpg",
        "a/../../outside.jpg",
        "a/..",
        "..",
        "/etc/passwd",
        "a\\b.jpg",
        "a\x00b.jpg",
        "a b.jpg",
        "",
        "a//b.jpg",
        "./a.jpg",
        "a/./b.jpg",
        "a/",
        "caf\u00e9.jpg",
        "a:b.jpg",
        "x" * 1025,
    ],
)
def test_hostile_keys_are_rejected(media: MediaStore, tmp_path: Path, key: str) -> None:
    for operation in (
        lambda: media.put(key, b"x", "image/jpeg"),
        lambda: media.get(key),
        lambda: media.exists(key),
        lambda: media.delete(key),
        lambda: media.size(key),
        lambda: media.append(key, b"x"),
        lambda: media.read_range(key, 0, 1),
        lambda: media.truncate(key, 0),
        lambda: media.delete_prefix(key),
    ):
        with pytest.raises(InvalidMediaKey):
            operation()
    assert not (tmp_path / "outside.jpg").exists()
    assert media.total_bytes() == 0
