"""The media store in a local directory: one file per key under `root`."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Collection
from pathlib import Path

from vigil.store.media.base import InvalidMediaKey, validate_key


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

    def put_unsynced(self, key: str, data: bytes, content_type: str) -> None:
        """Written in place without waiting for the disk, for keys nothing names yet."""
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
        try:
            found = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        # A directory is a prefix of other keys, not an object (as on S3).
        return found.st_size if stat.S_ISREG(found.st_mode) else None

    def total_bytes(self) -> int:
        total = 0
        for directory, _dirs, files in os.walk(self.root):
            for name in files:
                try:
                    total += os.stat(os.path.join(directory, name)).st_size
                except FileNotFoundError:  # removed while walking
                    continue
        return total
