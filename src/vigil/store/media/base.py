"""The media store contract: face-blurred snapshots and recording segments by key.

Everything a caller uses is here, so nothing probes an implementation for what it can do:
`store.media.local` (a directory) and `store.media.s3` (an S3-compatible object store) both
implement all of it, and `tests/contracts/test_media.py` holds both to it.

Keys come from event rows and, through them, from the API, so every key is checked before it
becomes a path or an object name: only [A-Za-z0-9._/-], relative, no '..', no empty segments.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Protocol

from vigil.domain.namespaces import path_segment

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
    return validate_key(f"{tenant}/{path_segment(camera_id)}/{day}/{event_id}.{ext}")


class MediaStore(Protocol):
    """Every operation validates its key first (InvalidMediaKey); a store that cannot be
    reached raises MediaError."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing what was there; readers never see a partial."""
        ...

    def get(self, key: str) -> bytes | None:
        """The stored bytes, or None if there are none."""
        ...

    def delete(self, key: str) -> None:
        """Remove `key`; removing a missing key is not an error."""
        ...

    def exists(self, key: str) -> bool:
        """Whether `key` holds bytes (a prefix of other keys does not)."""
        ...

    def size(self, key: str) -> int | None:
        """Bytes stored under `key`, or None: what deleting it frees (retention's tally)."""
        ...

    def total_bytes(self) -> int:
        """Bytes of everything stored: the store's use against retention's size quota."""
        ...

    def put_unsynced(self, key: str, data: bytes, content_type: str) -> None:
        """Store bytes that need not be durable before `sync` (a recorded segment is indexed
        only after it): a local disk spares one fsync per file, since one fsync costs more
        than remuxing the file. Until `sync`, a crash may leave the key missing or short."""
        ...

    def sync(self, keys: Collection[str]) -> None:
        """Make the listed keys, written with `put_unsynced`, durable."""
        ...
