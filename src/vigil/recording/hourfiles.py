"""Camera-hour files and the orphan sweep.

A writer appends each camera's sealed segments to one file per hour (`hour_file_key`): one file
creation per camera-hour instead of one per segment. Before its first byte, a file is listed in
`recording_open_files`; each batch commit refreshes the row of every file it indexed, and the
commit after a file's last segment deletes it. A listed file may therefore end in bytes no index
row names — segments stored but not committed when the process died — and `sweep` cuts them off
(or deletes the file when nothing in it was indexed), so disk and index agree again.

A file is swept only when no writer has refreshed its row for `stale_ms`: a live writer commits
what it appended within `COMMIT_S`, and touches a file again before appending to it after a
pause (`OpenFiles.touch`), so what the sweep cuts is never a live writer's pending segment.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from vigil.domain.frames import now_ms
from vigil.domain.namespaces import path_segment
from vigil.recording.index import SegmentIndex
from vigil.store.media import MediaStore, validate_key
from vigil.store.schema import recording_open_files as open_files

log = logging.getLogger(__name__)


def hour_file_key(tenant: str, camera_id: str, start_ms: int, run: str) -> str:
    """recordings/<tenant>/<camera>/<YYYY-MM-DD>/<HH>/<first start ms>-<writer run>.sealed
    (UTC): each writer run names its own files, so two writers of one hour (a camera moving
    between workers) never append to the same one."""
    when = datetime.fromtimestamp(start_ms / 1000, tz=UTC).strftime("%Y-%m-%d/%H")
    camera = path_segment(camera_id)  # 'acme:gate' is 'acme.gate'
    return validate_key(f"recordings/{tenant}/{camera}/{when}/{start_ms}-{run}.sealed")


def hour_prefix(tenant: str, camera_id: str, hour_ms: int) -> str:
    """The directory of one camera-hour: every file recorded for it, whoever wrote it."""
    when = datetime.fromtimestamp(hour_ms / 1000, tz=UTC).strftime("%Y-%m-%d/%H")
    return validate_key(f"recordings/{tenant}/{path_segment(camera_id)}/{when}")


@dataclass(slots=True)
class HourFile:
    key: str
    tenant: str
    camera_id: str
    hour_ms: int
    touched_ms: int = 0  # when its row was last refreshed


class OpenFiles:
    """The `recording_open_files` rows of one writer's files."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def touch(self, files: Iterable[HourFile], connection: sa.Connection | None = None) -> None:
        """List the files as being appended to, as of now (in the caller's transaction, or
        committed at once: a new file is listed before its first byte is written)."""
        now = now_ms()
        files = list(files)
        if not files:
            return
        keys = [f.key for f in files]
        with _transaction(self.engine, connection) as c:
            # One statement per batch when every row is there (the usual case); a row a
            # sweep removed, or a new file, is written again whole.
            refreshed = c.execute(
                sa.update(open_files).where(open_files.c.media_key.in_(keys))
                .values(updated_ms=now)
            ).rowcount
            if refreshed != len(files):
                c.execute(sa.delete(open_files).where(open_files.c.media_key.in_(keys)))
                c.execute(sa.insert(open_files), [
                    {"media_key": f.key, "tenant": f.tenant, "camera_id": f.camera_id,
                     "hour_ms": f.hour_ms, "updated_ms": now}
                    for f in files
                ])
        for f in files:
            f.touched_ms = now

    def complete(self, keys: Iterable[str], connection: sa.Connection) -> None:
        """The files are complete: every byte in them is indexed."""
        keys = list(keys)
        if keys:
            connection.execute(sa.delete(open_files).where(open_files.c.media_key.in_(keys)))


def sweep(
    engine: sa.Engine, media: MediaStore, stale_ms: int, keep: Iterable[str] = ()
) -> tuple[int, int]:
    """Cut what follows the last indexed segment off every listed file untouched for
    `stale_ms` (except `keep`, the caller's own), and delist it. Returns (files, bytes cut)."""
    index = SegmentIndex(engine)
    kept = set(keep)
    cutoff = now_ms() - stale_ms
    with engine.connect() as c:
        stale = c.execute(sa.select(open_files).where(open_files.c.updated_ms <= cutoff)).all()
    files = cut = 0
    for row in stale:
        if row.media_key in kept:
            continue
        end = index.indexed_end(row.tenant, row.camera_id, row.hour_ms, row.media_key)
        size = media.size(row.media_key) or 0
        if size > end:
            media.truncate(row.media_key, end)
            cut += size - end
            log.warning(
                "recording: cut %d unindexed bytes (a crash's uncommitted segments) off %s",
                size - end, row.media_key,
            )
        with engine.begin() as c:
            c.execute(
                sa.delete(open_files).where(
                    open_files.c.media_key == row.media_key,
                    open_files.c.updated_ms == row.updated_ms,
                )
            )
        files += 1
    return files, cut


@contextlib.contextmanager
def _transaction(engine: sa.Engine, connection: sa.Connection | None) -> Iterator[sa.Connection]:
    """The caller's connection as it is, or a new transaction committed on exit."""
    if connection is not None:
        yield connection
        return
    with engine.begin() as c:
        yield c
