"""What the API reads from recordings: timelines (recorded ranges and gaps) and protected
clips. Built once per API process from its store, media store and face detector."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from vigil.config import PrivacyMaskConfig
from vigil.recording.encode import encode_mp4
from vigil.recording.index import SegmentIndex, SegmentRow
from vigil.recording.keys import KeyStore
from vigil.recording.keywrap import KeyWrap
from vigil.recording.playback import Playback
from vigil.store.media import MediaStore
from vigil.vision.faces import FaceDetector

# Segments closer than this are one recorded range; a wider hole is a gap on the timeline.
GAP_MS = 1_500


@dataclass(frozen=True, slots=True)
class RecordedRange:
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class Clip:
    data: bytes
    frames: int
    start_ms: int
    end_ms: int


def merge_ranges(rows: Sequence[SegmentRow]) -> list[RecordedRange]:
    ranges: list[RecordedRange] = []
    for row in rows:
        if ranges and row.start_ms - ranges[-1].end_ms <= GAP_MS:
            last = ranges[-1]
            ranges[-1] = RecordedRange(last.start_ms, max(last.end_ms, row.end_ms))
        else:
            ranges.append(RecordedRange(row.start_ms, row.end_ms))
    return ranges


class RecordingArchive:
    def __init__(
        self, engine: sa.Engine, media: MediaStore, faces: FaceDetector, wrap: KeyWrap
    ) -> None:
        self.engine = engine
        self.index = SegmentIndex(engine)
        self.keys = KeyStore(engine, wrap)
        self.playback = Playback(self.index, self.keys, media, faces)

    def segments(
        self, camera_id: str, start_ms: int, end_ms: int, tenants: Collection[str] | None
    ) -> list[SegmentRow]:
        return self.index.between(camera_id, start_ms, end_ms, tenants)

    def timeline(
        self, camera_id: str, start_ms: int, end_ms: int, tenants: Collection[str] | None
    ) -> list[RecordedRange]:
        rows = [r for r in self.segments(camera_id, start_ms, end_ms, tenants)]
        return [
            RecordedRange(max(r.start_ms, start_ms), min(r.end_ms, end_ms))
            for r in merge_ranges(rows)
        ]

    def clip(
        self,
        rows: Sequence[SegmentRow],
        start_ms: int,
        end_ms: int,
        masks: Sequence[PrivacyMaskConfig],
        *,
        max_width: int | None = None,
    ) -> Clip:
        """A face-redacted H.264 MP4 of every recorded frame in [start_ms, end_ms)."""
        frames = list(self.playback.frames(rows, start_ms, end_ms, masks, max_width=max_width))
        fps = _fps(rows)
        data, count = encode_mp4(frames, fps)
        first = frames[0].ts_ms if frames else start_ms
        last = frames[-1].ts_ms if frames else start_ms
        return Clip(data, count, first, last)


def _fps(rows: Sequence[SegmentRow]) -> float:
    frames = sum(r.frames for r in rows)
    span_ms = sum(r.end_ms - r.start_ms for r in rows)
    return 1000 * frames / span_ms if span_ms > 0 else 10.0
