"""Which media store a configuration names: the S3 bucket of `store.media_url` when set, else
the directory `store.media_dir`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.store.media.base import MediaStore
from vigil.store.media.local import LocalMediaStore

if TYPE_CHECKING:
    from vigil.config import StoreConfig


def open_media(config: StoreConfig) -> MediaStore:
    """The media store `config` names: the S3 bucket of `media_url` when set, else `media_dir`."""
    if config.media_url is None:
        return LocalMediaStore(config.media_dir)
    # Imported here so that boto3 is needed only by those who keep media on S3.
    from vigil.store.media.s3 import S3MediaStore

    bucket, _, prefix = config.media_url.removeprefix("s3://").partition("/")
    s3 = config.s3
    return S3MediaStore(
        bucket, prefix, endpoint_url=s3.endpoint, region=s3.region,
        access_key=s3.access_key, secret_key=s3.secret_key,
    )
