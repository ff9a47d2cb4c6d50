"""The media store in a local directory: one file per key under `root`. Appended keys (a
camera's recording hour) stay open between appends: one file creation per camera-hour instead
of one per segment, and one fdatasync per file per batch."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Collection
from pathlib import Path

from vigil.store.media.base import InvalidMediaKey, validate_key


class LocalMediaStore:
    """Files under `root`, one per key. The content type is implied by the key's extension,
    so it is not stored separately (an object store keeps it as object metadata)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._made: set[Path] = set()  # directories appends made (a mkdir call spared)
        # Descriptors of the keys open for appending. Only the recording writer's thread
        # appends; the lock guards against a delete from another thread.
        self._open: dict[str, int] = {}
        self._new_names: set[Path] = set()  # directories holding names not yet fsynced
        self._lock = threading.Lock()

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

    def _made_parent(self, key: str) -> Path:
        path = self.root / validate_key(key)
        if path.parent not in self._made:
            self._path(key)  # a directory symlinked out of the root is refused here, once
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        return path

    def append(self, key: str, data: bytes) -> int:
        with self._lock:
            fd = self._open.get(key)
            if fd is None:
                fd = self._open_for_append(key)
            # O_APPEND writes at the file's end as it is (after a sweep's truncate, or a
            # partial write a full disk left, too), and the offset is read back after.
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            return os.lseek(fd, 0, os.SEEK_CUR) - len(data)

    def _open_for_append(self, key: str) -> int:
        path = self._made_parent(key)
        # O_NOFOLLOW: a symlink planted under the name is refused, not followed.
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
        fd = os.open(path, flags, 0o644)
        if os.fstat(fd).st_size == 0:
            self._new_names.add(path.parent)
        self._open[key] = fd
        return fd

    def end_append(self, key: str) -> None:
        with self._lock:
            fd = self._open.pop(key, None)
        if fd is not None:
            os.close(fd)

    def read_range(self, key: str, offset: int, length: int) -> bytes | None:
        try:
            fd = os.open(self._path(key), os.O_RDONLY | os.O_NOFOLLOW)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        try:
            data = os.pread(fd, length, offset)
        finally:
            os.close(fd)
        return data if len(data) == length else None

    def truncate(self, key: str, length: int) -> None:
        path = self._path(key)
        if length == 0:
            self.delete(key)
            return
        try:
            os.truncate(path, length)
        except FileNotFoundError:
            return

    def delete_prefix(self, prefix: str) -> int:
        directory = self._path(prefix)
        if not directory.is_dir():
            return 0
        with self._lock:
            for key in [k for k in self._open if k.startswith(f"{prefix}/")]:
                os.close(self._open.pop(key))
        freed = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
        shutil.rmtree(directory)
        self._made = {made for made in self._made if not made.is_relative_to(directory)}
        return freed

    def sync(self, keys: Collection[str]) -> None:
        """fdatasync each file (its new size is all the metadata an append changes), then
        each directory that got a new name since the last sync. A file no longer open (its
        appends ended) is opened again for it; one deleted since needs nothing. The keys were
        checked when they were appended to."""
        with self._lock:
            directories, self._new_names = self._new_names, set()
            closed = []
            for key in keys:
                if key in self._open:
                    os.fdatasync(self._open[key])
                else:
                    closed.append(key)
        for key in closed:
            try:
                fd = os.open(self.root / key, os.O_RDONLY | os.O_NOFOLLOW)
            except FileNotFoundError:
                continue
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)
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
        path = self._path(key)
        self.end_append(key)
        path.unlink(missing_ok=True)

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
