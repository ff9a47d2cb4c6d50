"""The media store contract: face-blurred snapshots and recordings by key.

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

    def sync(self, keys: Collection[str]) -> None:
        """Make what `append` added to the listed keys durable: a recorded segment is indexed
        only after it, and one sync per batch of segments costs little more than one."""
        ...

    def append(self, key: str, data: bytes) -> int:
        """Add `data` at the end of `key` (created when missing) and return the offset it
        starts at, to be read back with `read_range`. Not durable before `sync`: a crash may
        leave the key short or with a partial last piece, which `truncate` cuts off. One
        writer per key: a recording hour file belongs to the writer that named it."""
        ...

    def end_append(self, key: str) -> None:
        """No more appends to `key` from this process: what it held open for them is freed."""
        ...

    def read_range(self, key: str, offset: int, length: int) -> bytes | None:
        """The `length` bytes at `offset`, or None when they are not all stored. `offset` is
        0 or one that `append` returned: a store that keeps appended pieces as separate
        objects (S3, which cannot append) reads one piece back whole."""
        ...

    def truncate(self, key: str, length: int) -> None:
        """Drop everything stored under `key` from `length` on, where `length` is 0, an offset
        `append` returned or the end (a crashed writer's unindexed tail); 0 removes the key."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under the directory `prefix` (given without a trailing '/') and
        return the bytes freed: an expired hour of recording, whatever files it holds."""
        ...
