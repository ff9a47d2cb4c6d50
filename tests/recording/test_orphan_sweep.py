"""The orphan sweep: a writer killed (SIGKILL) after appending segments it never committed
leaves bytes in its hour file that no index row names; the next writer to start cuts them off,
so the index and the disk agree again, and every segment that was indexed still opens."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import av
import sqlalchemy as sa

from tests.databases import database_url
from tests.media import CLIP
from tests.recording.conftest import sealed_of
from vigil.recording.crypto import new_key, unseal
from vigil.recording.index import SegmentIndex, SegmentRow
from vigil.recording.keys import KeyStore
from vigil.recording.keywrap import KeyWrap
from vigil.recording.segmenter import Segment, Segmenter
from vigil.recording.writer import SegmentWriter
from vigil.store import EventStore, LocalMediaStore
from vigil.store.schema import recording_open_files

FAR = 2**62

# A writer that indexes three of the clip's segments, appends three more without committing
# them, says so, and waits to be killed.
CRASHING_WRITER = """
import sys, time
from pathlib import Path
from tests.recording.test_orphan_sweep import clip_segments
from vigil.recording.index import SegmentIndex
from vigil.recording.keys import KeyStore
from vigil.recording.keywrap import KeyWrap
from vigil.recording.writer import SegmentWriter
from vigil.store import EventStore, LocalMediaStore

url, media_dir, master = sys.argv[1:]
store = EventStore(url)
keys = KeyStore(store.engine, KeyWrap(bytes.fromhex(master)))
writer = SegmentWriter(LocalMediaStore(Path(media_dir)), keys, SegmentIndex(store.engine),
                       commit_s=3600)
segments = clip_segments()
for segment in segments[:3]:
    writer.write("default", "cam", segment)
for segment in segments[3:6]:
    writer.store("default", "cam", segment)
print("appended", flush=True)
time.sleep(600)
"""


def clip_segments() -> list[Segment]:
    """The bundled clip cut into real segments, stamped from a fixed hour."""
    segments: list[Segment] = []
    with av.open(str(CLIP)) as container:
        stream = container.streams.video[0]
        segmenter = Segmenter(stream, 4.0)
        base = 1_800_000_000_000
        for packet in container.demux(stream):
            if packet.pts is None or not packet.size:
                continue
            ts_ms = base + int(packet.pts * float(stream.time_base) * 1000)
            done = segmenter.add(packet, ts_ms, packet.is_keyframe)
            if done is not None:
                segments.append(done)
    return segments


def frames_of(keys: KeyStore, media: LocalMediaStore, row: SegmentRow) -> int:
    key = keys.key(row.tenant, row.camera_id, row.hour_ms)
    assert key is not None
    plain = unseal(key, sealed_of(media, row), row.media_key, row.id)
    with av.open(io.BytesIO(plain), mode="r", format="mpegts") as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_killed_writers_unindexed_tail_is_cut_and_nothing_indexed_is_lost(
    tmp_path: Path,
) -> None:
    url = database_url(tmp_path)
    store = EventStore(url)
    store.migrate()
    media = LocalMediaStore(tmp_path / "media")
    master = new_key()
    keys = KeyStore(store.engine, KeyWrap(master))
    index = SegmentIndex(store.engine)

    writer_process = subprocess.Popen(
        [sys.executable, "-c", CRASHING_WRITER, url, str(media.root), master.hex()],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert writer_process.stdout is not None
        assert writer_process.stdout.readline() == b"appended\n"
    finally:
        writer_process.kill()
        writer_process.wait()

    rows = index.between("cam", 0, FAR, None)
    assert len(rows) == 3, "only the committed segments are indexed"
    [hour_file] = {row.media_key for row in rows}
    indexed_end = max(row.byte_offset + row.bytes for row in rows)
    left = media.size(hour_file)
    assert left is not None and left > indexed_end, "the crash left unindexed segments behind"
    before = [sealed_of(media, row) for row in rows]

    # The next writer starts (a restart, or another worker) once the file is seen abandoned.
    time.sleep(0.6)
    restarted = SegmentWriter(media, keys, index, orphan_after_s=0.5)
    try:
        assert media.size(hour_file) == indexed_end, "disk and index disagree after the sweep"
        assert [sealed_of(media, row) for row in rows] == before
        assert all(frames_of(keys, media, row) == row.frames for row in rows)
        with store.engine.connect() as c:
            listed = c.execute(sa.select(recording_open_files.c.media_key)).scalars().all()
        assert hour_file not in listed

        # Recording goes on: the restarted writer's own file, indexed and readable.
        later = clip_segments()[6]
        row = restarted.write("default", "cam", later)
        assert row.media_key != hour_file
        assert frames_of(keys, media, row) == row.frames
    finally:
        restarted.close()
        store.close()


def test_a_live_writers_file_is_not_swept(tmp_path: Path) -> None:
    """Another writer's sweep leaves a file whose writer has touched it recently, even with
    segments appended but not yet committed (they are committed within commit_s)."""
    store = EventStore(database_url(tmp_path))
    store.migrate()
    media = LocalMediaStore(tmp_path / "media")
    keys = KeyStore(store.engine, KeyWrap(new_key()))
    index = SegmentIndex(store.engine)
    segments = clip_segments()
    live = SegmentWriter(media, keys, index, commit_s=3600)
    try:
        live.write("default", "cam", segments[0])
        pending = live.store("default", "cam", segments[1])
        other = SegmentWriter(media, keys, index)  # starts, sweeps with the default threshold
        other.close()
        live.commit([pending])
        rows = index.between("cam", 0, FAR, None)
        assert len(rows) == 2
        assert all(frames_of(keys, media, row) == row.frames for row in rows)
    finally:
        live.close()
        store.close()
