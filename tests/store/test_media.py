"""What is particular to each media store: the local directory's atomic writes and symlink
guard, S3's content types, prefixes, bucket creation and clear errors, and the choice between
them by config. What both must do is tests/contracts/test_media.py."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from vigil.config import ConfigError, StoreConfig, parse_config
from vigil.services.common import free_port
from vigil.services.seaweedfs import SeaweedServer
from vigil.store import InvalidMediaKey, LocalMediaStore
from vigil.store.media import MediaError, open_media
from vigil.store.media.s3 import S3MediaStore

BUCKET = "vigil-test-media"
_prefixes = itertools.count()


def s3_store(server: SeaweedServer, bucket: str = BUCKET, **kwargs: Any) -> S3MediaStore:
    """A store in `bucket` under a prefix no other test uses."""
    return S3MediaStore(
        bucket,
        f"test-{os.getpid()}-{next(_prefixes)}",
        endpoint_url=server.s3_endpoint,
        access_key=server.access_key,
        secret_key=server.secret_key,
        **kwargs,
    )


def test_a_local_put_leaves_no_temporary_file(tmp_path: Path) -> None:
    media = LocalMediaStore(tmp_path / "media")
    media.put("a/b.jpg", b"first", "image/jpeg")
    media.put("a/b.jpg", b"second", "image/jpeg")
    # Written through a temporary file and a rename: nothing else is left in the directory.
    assert os.listdir(tmp_path / "media" / "a") == ["b.jpg"]


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


def test_appends_are_readable_synced_in_a_batch_and_follow_no_symlink(
    tmp_path: Path,
) -> None:
    store = LocalMediaStore(tmp_path / "media")
    keys = [f"recordings/t/cam/{n}.sealed" for n in range(3)]
    for n, key in enumerate(keys):
        assert store.append(key, bytes([n]) * 10) == 0
    store.sync(keys)
    assert [store.get(key) for key in keys] == [bytes([n]) * 10 for n in range(3)]
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    (tmp_path / "media" / "recordings" / "t" / "cam" / "planted").symlink_to(outside)
    with pytest.raises(OSError):  # O_NOFOLLOW: ELOOP, not the file the link names
        store.append("recordings/t/cam/planted", b"overwrite")
    assert outside.read_text() == "keep"
    (tmp_path / "media" / "away").symlink_to(tmp_path)
    with pytest.raises(InvalidMediaKey):
        store.append("away/escaped.sealed", b"x")
    assert not (tmp_path / "escaped.sealed").exists()
    (tmp_path / "media" / "recordings" / "t" / "cam" / "read").symlink_to(outside)
    with pytest.raises(InvalidMediaKey):
        store.read_range("recordings/t/cam/read", 0, 4)


def test_s3_keeps_the_content_type_and_stays_under_its_prefix(
    seaweed_server: SeaweedServer,
) -> None:
    first, second = s3_store(seaweed_server), s3_store(seaweed_server)
    first.put("cam/a.jpg", b"\xff\xd8jpeg", "image/jpeg")
    first.put("cam/b.png", b"\x89PNG", "image/png")
    client = boto3.client(
        "s3",
        endpoint_url=seaweed_server.s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=seaweed_server.access_key,
        aws_secret_access_key=seaweed_server.secret_key,
    )
    head = client.head_object(Bucket=BUCKET, Key=f"{first.prefix}cam/b.png")
    assert head["ContentType"] == "image/png"
    assert (
        client.head_object(Bucket=BUCKET, Key=f"{first.prefix}cam/a.jpg")["ContentType"]
        == "image/jpeg"
    )
    # Another prefix in the same bucket is another store.
    assert second.get("cam/a.jpg") is None and second.total_bytes() == 0
    assert first.total_bytes() == 10


def test_s3_creates_its_bucket_when_missing(seaweed_server: SeaweedServer) -> None:
    bucket = f"vigil-test-new-{os.getpid()}-{next(_prefixes)}"
    s3_store(seaweed_server, bucket).put("a.jpg", b"x", "image/jpeg")
    assert s3_store(seaweed_server, bucket).total_bytes() == 0  # an existing bucket is fine


def test_an_unreachable_s3_is_a_media_error_naming_the_endpoint() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(MediaError) as caught:
        S3MediaStore(
            "vigil-media",
            endpoint_url=endpoint,
            access_key="k",
            secret_key="s",
            connect_timeout=0.5,
            attempts=1,
        )
    message = str(caught.value)
    assert endpoint in message and "'vigil-media'" in message
    assert "store.s3.endpoint" in message
    assert isinstance(caught.value, OSError)
    assert time.monotonic() - started < 5


def test_wrong_s3_credentials_are_a_media_error_naming_them(
    seaweed_server: SeaweedServer,
) -> None:
    with pytest.raises(MediaError, match="check the access key and secret") as caught:
        S3MediaStore(
            BUCKET,
            endpoint_url=seaweed_server.s3_endpoint,
            access_key=seaweed_server.access_key,
            secret_key="not-the-secret",
            attempts=1,
        )
    assert seaweed_server.s3_endpoint in str(caught.value)


def test_open_media_picks_the_store_the_config_names(
    tmp_path: Path, seaweed_server: SeaweedServer
) -> None:
    local = open_media(StoreConfig(media_dir=tmp_path / "media"))
    assert isinstance(local, LocalMediaStore) and local.root == (tmp_path / "media").resolve()
    config = StoreConfig.model_validate(
        {
            "media_dir": str(tmp_path / "unused"),
            "media_url": f"s3://{BUCKET}/site-1/",
            "s3": {
                "endpoint": seaweed_server.s3_endpoint,
                "access_key": seaweed_server.access_key,
                "secret_key": seaweed_server.secret_key,
            },
        }
    )
    remote = open_media(config)
    assert isinstance(remote, S3MediaStore)
    assert (remote.bucket, remote.prefix) == (BUCKET, "site-1/")
    assert remote.endpoint == seaweed_server.s3_endpoint
    assert not (tmp_path / "unused").exists()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://host/bucket", "not an S3 URL"),
        ("s3://Bad_Bucket", "not an S3 bucket name"),
        ("s3://ab", "not an S3 bucket name"),
        ("s3://vigil-media/../other", "no '.' or '..'"),
        ("s3://vigil-media/a//b", "single '/'"),
    ],
)
def test_a_bad_media_url_is_a_config_error_naming_the_key(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=r"store\.media_url") as caught:
        parse_config({"store": {"media_url": url}})
    assert problem in str(caught.value)


def test_s3_keys_come_in_pairs() -> None:
    with pytest.raises(ConfigError, match="access_key and secret_key go together"):
        parse_config({"store": {"s3": {"access_key": "only-the-id"}}})
