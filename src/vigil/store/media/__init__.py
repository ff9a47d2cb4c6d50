"""Media stores: the contract (`base`), a local directory (`local`), an S3-compatible object
store (`s3`, imported only when configured, so boto3 is needed only there) and the choice
between them by config (`choice`)."""

from vigil.store.media.base import (
    InvalidMediaKey,
    MediaError,
    MediaStore,
    media_key,
    validate_key,
)
from vigil.store.media.choice import open_media
from vigil.store.media.local import LocalMediaStore

__all__ = [
    "InvalidMediaKey",
    "LocalMediaStore",
    "MediaError",
    "MediaStore",
    "media_key",
    "open_media",
    "validate_key",
]
