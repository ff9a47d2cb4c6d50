"""The media store: face-blurred snapshots by key, in a local directory or an S3-compatible
object store (vigil.store.s3media), chosen by `store.media_url`.

Keys come from event rows and, through them, from the API, so every key is checked before it
becomes a path: only [A-Za-z0-9._/-], relative, no '..', no empty segments.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from vigil.config import StoreConfig

_KEY = re.compile(r"^[A-Za-z0-9._/-]{1,1024}$")


class InvalidMediaKey(ValueError):
    """A media key that could name something outside the store."""


class MediaError(OSError):
    """The media store could not be reached or refused an operation: the object-store
    counterpart of a disk error, so code that survives one survives the other."""


def validate_key(key: str) -> str:
    if not _KEY.match(key):
        raise InvalidMediaKey(
            f"media key {key[:80]!r} must be 1-1024 characters of A-Z a-z 0-9 . _ / -"
        )
    if ".." in key or key.startswith("/") or key.endswith("/"):
        raise InvalidMediaKey(f"media key {key!r} must be relative and must not contain '..'")
    if any(part in ("", ".") for part in key.split("/")):
        raise InvalidMediaKey(f"media key {key!r} has an empty or '.' path segment")
    return key


def media_key(tenant: str, camera_id: str, ts_ms: int, event_id: str, ext: str = "jpg") -> str:
    """The key of an event's snapshot: tenant/camera/YYYY-MM-DD (UTC)/<event id>.<ext>."""
    day = datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d")
    return validate_key(f"{tenant}/{camera_id}/{day}/{event_id}.{ext}")


class MediaStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing what was there; readers never see a partial."""
        ...

    def get(self, key: str) -> bytes | None:
        """The stored bytes, or None if there are none."""
        ...

    def delete(self, key: str) -> None:
        """Remove `key`; removing a missing key is not an error."""
        ...

    def exists(self, key: str) -> bool: ...


@runtime_checkable
class DeferredSync(Protocol):
    """A store whose writes can be made durable later, many at once (a local disk: one fsync
    per file costs more than remuxing the file). An object store's put is durable when it
    returns and does not need this."""

    def put_unsynced(self, key: str, data: bytes) -> None: ...

    def sync(self, keys: Collection[str]) -> None:
        """Make the listed keys, written with put_unsynced, durable."""
        ...


class LocalMediaStore:
    """Files under `root`, one per key. The content type is implied by the key's extension,
    so it is not stored separately (an object store keeps it as object metadata)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._made: set[Path] = set()  # directories put_unsynced made (a mkdir call spared)

    def _path(self, key: str) -> Path:
        path = self.root / validate_key(key)
        # A symlink planted inside the root must not lead out of it.
        if not path.resolve().is_relative_to(self.root):
            raise InvalidMediaKey(f"media key {key!r} resolves outside the media directory")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_unsynced(self, key: str, data: bytes) -> None:
        """Like put, without waiting for the disk, for keys nothing names yet (a recorded
        segment is indexed only after `sync`): the file is written in place, so until then
        a crash may leave it missing, empty or short."""
        path = self.root / validate_key(key)
        if path.parent not in self._made:
            self._path(key)  # a directory symlinked out of the root is refused here, once
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        # O_EXCL|O_NOFOLLOW: a name planted since (a symlink included) is refused, not followed.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)

    def sync(self, keys: Collection[str]) -> None:
        """fsync the files, then their directories (which hold the new names). After the
        first file the journal holds most of the rest, so a batch costs little more than one
        file. The keys were checked when they were written."""
        directories: set[Path] = set()
        for key in keys:
            path = self.root / key
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            directories.add(path.parent)
        for directory in directories:
            fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int | None:
        """Bytes stored under `key`, or None (for retention's size quota)."""
        try:
            return self._path(key).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            return None

    def total_bytes(self) -> int:
        """Bytes of every stored file (the volume's use against its quota)."""
        total = 0
        for directory, _dirs, files in os.walk(self.root):
            for name in files:
                try:
                    total += os.stat(os.path.join(directory, name)).st_size
                except FileNotFoundError:  # removed while walking
                    continue
        return total


def open_media(config: StoreConfig) -> MediaStore:
    """The media store `config` names: the S3 bucket of `media_url` when set, else `media_dir`."""
    if config.media_url is None:
        return LocalMediaStore(config.media_dir)
    # Imported here so that boto3 is needed only by those who keep media on S3.
    from vigil.store.s3media import S3MediaStore

    bucket, _, prefix = config.media_url.removeprefix("s3://").partition("/")
    s3 = config.s3
    return S3MediaStore(
        bucket, prefix, endpoint_url=s3.endpoint, region=s3.region,
        access_key=s3.access_key, secret_key=s3.secret_key,
    )
