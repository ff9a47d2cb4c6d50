"""The recorder: every packet of the camera's own stream, sealed at rest, in keyframe-aligned
segments with wall-clock times — whatever the analysis rate."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import av
import pytest

from tests.media import CLIP
from tests.recording.conftest import file_camera, fresh_wrap, record_file, sealed_of
from vigil.config import RecordingConfig, parse_camera
from vigil.domain.frames import now_ms
from vigil.recording.crypto import MAGIC, SegmentUnreadable, new_key, unseal
from vigil.recording.service import RecordingService
from vigil.store import EventStore, LocalMediaStore

FAR = 2**62


def packets_in(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for p in container.demux(video=0) if p.size)


def ts_sync_pattern(data: bytes) -> bool:
    """Whether `data` looks like MPEG-TS: a 0x47 sync byte every 188 bytes."""
    return any(
        len(data[i::188][:50]) == 50 and set(data[i::188][:50]) == {0x47} for i in range(188)
    )


def test_every_packet_is_recorded_at_full_rate_while_analysis_samples_few(
    recording: RecordingService,
) -> None:
    sampled = record_file(recording, file_camera(CLIP))
    rows = recording.index.between("cam", 0, FAR, None)
    assert sum(row.frames for row in rows) == packets_in(CLIP)  # 795 frames at 10 fps
    assert sampled < packets_in(CLIP) / 5, "analysis ran at 1 fps, recording at full rate"
    for before, after in itertools.pairwise(rows):
        assert before.end_ms <= after.start_ms, "segments must not overlap"
    assert all(1_000 <= row.end_ms - row.start_ms <= 12_000 for row in rows[:-1])


def test_segments_are_sealed_on_disk_and_each_starts_on_a_keyframe(
    recording: RecordingService, media: LocalMediaStore
) -> None:
    record_file(recording, file_camera(CLIP))
    rows = recording.index.between("cam", 0, FAR, None)
    assert rows
    for row in rows:
        sealed = sealed_of(media, row)
        assert sealed.startswith(MAGIC)
        assert b"ftyp" not in sealed and b"\x00\x00\x00\x01\x67" not in sealed
        assert not ts_sync_pattern(sealed), f"{row.media_key} is plain MPEG-TS"
        key = recording.keys.key(row.tenant, row.camera_id, row.hour_ms)
        assert key is not None
        plain = unseal(key, sealed, row.media_key, row.id)
        assert ts_sync_pattern(plain)
        with av.open(io.BytesIO(plain), mode="r", format="mpegts") as container:
            frames = list(container.decode(video=0))
        assert frames[0].key_frame, "a segment must start on a keyframe"
        assert len(frames) == row.frames


def test_a_segment_does_not_open_with_another_key_or_under_another_name(
    recording: RecordingService, media: LocalMediaStore
) -> None:
    record_file(recording, file_camera(CLIP))
    first, second = recording.index.between("cam", 0, FAR, None)[:2]
    sealed = sealed_of(media, first)
    key = recording.keys.key(first.tenant, first.camera_id, first.hour_ms)
    assert key is not None
    assert unseal(key, sealed, first.media_key, first.id)
    with pytest.raises(SegmentUnreadable):
        unseal(new_key(), sealed, first.media_key, first.id)
    with pytest.raises(SegmentUnreadable):
        unseal(key, sealed, first.media_key, second.id)  # swapped with another row's
    with pytest.raises(SegmentUnreadable):
        unseal(key, sealed, "recordings/default/other/x.sealed", first.id)  # another file
    altered = bytearray(sealed)
    altered[len(altered) // 2] ^= 1
    with pytest.raises(SegmentUnreadable):
        unseal(key, bytes(altered), first.media_key, first.id)


def test_off_records_nothing(store: EventStore, media: LocalMediaStore) -> None:
    service = RecordingService(
        store.engine, media, RecordingConfig(mode="continuous"), fresh_wrap()
    )
    camera = parse_camera({"id": "cam", "url": str(CLIP), "recording": {"mode": "off"}})
    assert service.start_camera(camera) is None
    service.writer.close()


def test_events_mode_keeps_only_pre_and_post_roll_around_an_event(
    store: EventStore, media: LocalMediaStore
) -> None:
    config = RecordingConfig(mode="events", pre_roll_s=5, post_roll_s=5, segment_s=2)
    service = RecordingService(store.engine, media, config, fresh_wrap())
    camera = file_camera(CLIP)
    recorder = service.start_camera(camera)
    assert recorder is not None and recorder.state() == "standby"
    # Feed the clip's packets directly so the event can be placed at a known media time.
    with av.open(str(CLIP)) as container:
        stream = container.streams.video[0]
        recorder.opened(stream)
        origin = now_ms()  # the first packet is stamped now (within milliseconds)
        triggered = False
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            media_ms = int(packet.pts * packet.time_base * 1000)
            recorder.packet(packet)
            if media_ms >= 40_000 and not triggered:  # an event 40 s in, lasting one second
                recorder.trigger(origin + 40_000, origin + 41_000)
                triggered = True
        recorder.closed()
    service.writer.flush()
    rows = service.index.between("cam", 0, FAR, None)
    assert rows
    assert min(r.start_ms for r in rows) <= origin + 35_000, "pre-roll missing"
    assert max(r.end_ms for r in rows) >= origin + 46_000, "post-roll missing"
    assert min(r.start_ms for r in rows) >= origin + 35_000 - 4_000
    assert max(r.end_ms for r in rows) <= origin + 46_000 + 4_000
    recorded = sum(r.end_ms - r.start_ms for r in rows)
    assert recorded < 30_000, "only the event's neighbourhood of the 80 s clip is kept"
    service.writer.close()
