"""Retention by crypto-shredding: an expired hour's key goes first, then its segments; an hour
an open case holds keeps both; a tenant over quota loses its oldest unlocked hours."""

from __future__ import annotations

import sqlalchemy as sa

from tests.media import CLIP
from tests.recording.conftest import file_camera, record_file, sealed_of
from vigil.config import RecordingConfig
from vigil.domain.events import Event, EventState, ObjectInfo, uuid7
from vigil.domain.frames import now_ms
from vigil.privacy.retention import CaseStore
from vigil.recording.crypto import SegmentUnreadable, unseal
from vigil.recording.keys import HOUR_MS
from vigil.recording.playback import Playback
from vigil.recording.retention import RecordingRetention
from vigil.recording.segmenter import Segment
from vigil.recording.service import RecordingService
from vigil.store import EventStore, LocalMediaStore
from vigil.store.schema import recording_keys

FAR = 2**62
DAY_MS = 24 * HOUR_MS


def event_at(ts_ms: int, camera_id: str = "cam") -> Event:
    return Event(
        id=uuid7(ts_ms),
        tenant="default",
        camera_id=camera_id,
        camera_name=camera_id,
        module="zone",
        type="zone.presence",
        state=EventState.ENDED,
        object=ObjectInfo(
            class_name="person", class_id=0, track_id=1, score=0.9, box=(1.0, 2.0, 30.0, 40.0)
        ),
        zone="all",
        start_ms=ts_ms,
        end_ms=ts_ms + 1000,
        updated_ms=ts_ms + 1000,
    )


def test_expired_hours_are_shredded_key_first_and_locked_hours_are_kept(
    store: EventStore, media: LocalMediaStore, recording: RecordingService
) -> None:
    record_file(recording, file_camera(CLIP))
    rows = recording.index.between("cam", 0, FAR, None)
    hours = sorted({row.hour_ms for row in rows})
    files = {row.media_key for row in rows}
    assert all((media.root / key).is_file() for key in files)

    # Three days later everything has expired (72 h); the retention job's clock moves.
    later = now_ms() + 3 * DAY_MS + 2 * HOUR_MS
    job = RecordingRetention(store.engine, media, RecordingConfig(), clock=lambda: later)
    # A case holds an event in the recording's first hour: that hour stays whole.
    locked_hour = hours[0]
    event = event_at(rows[0].start_ms + 1000)
    store.upsert_events([event])
    cases = CaseStore(store.engine)
    case = cases.create("default", "incident 7", "theft report", "alice")
    assert cases.add_events(case, [event.id]) == []

    report = job.run_once()

    assert report.hours_locked == 1
    assert report.hours_shredded == len(hours) - 1
    kept = recording.index.between("cam", 0, FAR, None)
    assert {row.hour_ms for row in kept} == {locked_hour}
    assert recording.keys.key("default", "cam", locked_hour) is not None
    for row in rows:
        on_disk = (media.root / row.media_key).is_file()
        assert on_disk == (row.hour_ms == locked_hour)
    with store.engine.connect() as c:
        left = c.execute(sa.select(recording_keys.c.hour_ms)).scalars().all()
    assert left == [locked_hour], "an expired hour's key must be gone"

    # Released, the case no longer holds it: the next run shreds it too.
    cases.release(case, "alice")
    assert job.run_once().hours_shredded == 1
    assert recording.index.between("cam", 0, FAR, None) == []
    assert not any((media.root / key).is_file() for key in files)


def test_a_shredded_hour_is_unreadable_even_from_a_backup_of_its_segments(
    store: EventStore, media: LocalMediaStore, recording: RecordingService
) -> None:
    record_file(recording, file_camera(CLIP))
    row = recording.index.between("cam", 0, FAR, None)[0]
    backup = sealed_of(media, row)
    key = recording.keys.key(row.tenant, row.camera_id, row.hour_ms)
    assert key is not None and unseal(key, backup, row.media_key, row.id)

    recording.keys.shred(row.tenant, row.camera_id, row.hour_ms)

    assert recording.keys.key(row.tenant, row.camera_id, row.hour_ms) is None
    faces = _no_faces()
    playback = Playback(recording.index, recording.keys, media, faces)  # type: ignore[arg-type]
    assert not playback.readable(row)
    assert list(playback.frames([row], 0, FAR, [])) == []
    # What is left (a backup, or segments not yet deleted) does not open with any key Vigil
    # still has: every remaining key is another hour's. One such hour exists whatever the
    # clock: the hours around the shredded one (the clip may have spanned two).
    for hour_ms in (row.hour_ms - HOUR_MS, row.hour_ms + HOUR_MS):
        recording.keys.key_for_writing(row.tenant, row.camera_id, hour_ms)
    with store.engine.connect() as c:
        hours = c.execute(
            sa.select(recording_keys.c.tenant, recording_keys.c.camera_id, recording_keys.c.hour_ms)
        ).all()
    remaining = [recording.keys.key(*hour) for hour in hours]
    assert len(remaining) >= 2 and all(key is not None for key in remaining)
    for other in remaining:
        assert other is not None
        try:
            unseal(other, backup, row.media_key, row.id)
        except SegmentUnreadable:
            continue
        raise AssertionError("a shredded segment opened with another hour's key")


def test_a_tenant_over_quota_loses_its_oldest_unlocked_hours_and_is_warned(
    store: EventStore, media: LocalMediaStore, recording: RecordingService
) -> None:
    base = (now_ms() // HOUR_MS - 5) * HOUR_MS
    size = 100_000
    for hour in range(4):  # four recent hours of 100 kB each: none has expired
        segment = Segment(
            data=bytes(size),
            start_ms=base + hour * HOUR_MS + 60_000,
            end_ms=base + hour * HOUR_MS + 64_000,
            frames=40,
            codec="h264",
            width=768,
            height=576,
        )
        recording.writer.write("default", "cam", segment)
    sealed = recording.index.bytes_by_tenant()["default"] // 4
    # The oldest hour is held by a case; the quota leaves room for two hours.
    event = event_at(base + 61_000)
    store.upsert_events([event])
    cases = CaseStore(store.engine)
    cases.add_events(cases.create("default", "c", "robbery", "alice"), [event.id])
    config = RecordingConfig(quota_mb_per_tenant=2.5 * sealed / 1024 / 1024, warn_ratio=0.5)

    report = RecordingRetention(store.engine, media, config).run_once()

    left = sorted({row.hour_ms for row in recording.index.between("cam", 0, FAR, None)})
    assert left == [base, base + 3 * HOUR_MS], "locked hour kept, then the newest"
    assert report.hours_shredded == 2
    assert report.usage["default"] == 2 * sealed
    assert report.warned == ["default"]


class _NoFaces:
    threshold = 0.35

    def detect(self, image: object) -> list[object]:
        raise AssertionError("nothing may be decoded from a shredded hour")


def _no_faces() -> _NoFaces:
    return _NoFaces()


def test_an_expired_hour_with_a_key_but_no_indexed_segment_is_shredded(
    store: EventStore, media: LocalMediaStore, recording: RecordingService
) -> None:
    # A crash between storing a segment and the writer's commit leaves the hour's key and an
    # unindexed file: retention must still destroy the key when the hour expires.
    hour = (now_ms() // HOUR_MS - 80) * HOUR_MS
    recording.keys.key_for_writing("default", "cam", hour)
    later = now_ms()
    job = RecordingRetention(store.engine, media, RecordingConfig(), clock=lambda: later)
    report = job.run_once()
    assert report.hours_shredded == 1
    assert recording.keys.key("default", "cam", hour) is None
