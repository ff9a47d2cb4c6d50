"""Reading recordings back — only ever as masked, face-redacted, re-encoded pictures.

The one way out of a recording: decrypt a segment in memory, decode it, black out the camera's
privacy masks and redact every face (the live view's code), then encode JPEG or H.264. No
function here returns a decrypted segment's bytes; `_decoded` keeps them local.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

import av
import numpy as np

from vigil.config import PrivacyMaskConfig
from vigil.privacy.masks import apply_masks
from vigil.privacy.redact import redact_faces
from vigil.recording.crypto import SegmentUnreadable, unseal
from vigil.recording.index import SegmentIndex, SegmentRow
from vigil.recording.keys import KeyStore
from vigil.store.media import MediaStore
from vigil.vision.faces import FaceDetector
from vigil.vision.overlay import fit_width

STRICT_FACTOR = 0.7
FINAL_PASSES = 4


@dataclass(frozen=True, slots=True)
class PlaybackFrame:
    ts_ms: int
    image: np.ndarray  # BGR, masked and face-redacted


class Playback:
    def __init__(
        self, index: SegmentIndex, keys: KeyStore, media: MediaStore, faces: FaceDetector
    ) -> None:
        self.index = index
        self.keys = keys
        self.media = media
        self.faces = strict(faces)

    def segments(
        self, camera_id: str, start_ms: int, end_ms: int, tenants: Collection[str] | None
    ) -> list[SegmentRow]:
        return self.index.between(camera_id, start_ms, end_ms, tenants)

    def frames(
        self,
        segments: Sequence[SegmentRow],
        start_ms: int,
        end_ms: int,
        masks: Sequence[PrivacyMaskConfig],
        *,
        step_ms: int = 0,
        max_width: int | None = None,
    ) -> Iterator[PlaybackFrame]:
        """Protected frames in [start_ms, end_ms), at least `step_ms` apart (0: every frame).
        A segment whose key was shredded, or that does not open, is skipped: a gap."""
        next_ms = start_ms
        for row in segments:
            try:
                pictures = list(self._decoded(row))
            except SegmentUnreadable:
                continue
            for ts_ms, frame in pictures:
                if ts_ms < next_ms or ts_ms >= end_ms:
                    continue
                next_ms = ts_ms + max(step_ms, 1)
                yield PlaybackFrame(
                    ts_ms, protect(frame.to_ndarray(format="bgr24"), masks, self.faces, max_width)
                )

    def readable(self, row: SegmentRow) -> bool:
        """Whether the segment still opens (its hour's key exists and fits its bytes)."""
        try:
            self._plaintext(row)
        except SegmentUnreadable:
            return False
        return True

    def _plaintext(self, row: SegmentRow) -> bytes:
        key = self.keys.key(row.tenant, row.camera_id, row.hour_ms)
        if key is None:
            raise SegmentUnreadable(f"{row.media_key}: its hour's key was shredded")
        sealed = self.media.read_range(row.media_key, row.byte_offset, row.bytes)
        if sealed is None:
            raise SegmentUnreadable(f"{row.media_key}: no longer in the media store")
        return unseal(key, sealed, row.media_key, row.id)

    def _decoded(self, row: SegmentRow) -> Iterator[tuple[int, av.VideoFrame]]:
        try:
            container = av.open(io.BytesIO(self._plaintext(row)), mode="r", format="mpegts")
        except av.FFmpegError as exc:
            raise SegmentUnreadable(f"{row.media_key}: not a readable segment ({exc})") from None
        with container:
            first: float | None = None
            try:
                for frame in container.decode(video=0):
                    if frame.time is None:
                        continue
                    first = frame.time if first is None else first
                    yield row.start_ms + round((frame.time - first) * 1000), frame
            except av.FFmpegError:
                return  # a segment cut short (a crash while recording) plays up to the cut


def strict(faces: FaceDetector) -> FaceDetector:
    """The detector at a lower threshold, sharing its model. Served recordings are encoded
    again (H.264) after redaction, and coding noise can lift a face that scored just under
    the threshold above it; redacting down to `STRICT_FACTOR` × threshold leaves that margin."""
    lowered = copy.copy(faces)  # the same onnxruntime session and lock
    lowered.threshold = faces.threshold * STRICT_FACTOR
    return lowered


def protect(
    image: np.ndarray,
    masks: Sequence[PrivacyMaskConfig],
    faces: FaceDetector,
    max_width: int | None = None,
) -> np.ndarray:
    """What live view does to a frame, always on for recordings: masks, then faces (filled
    solid, as the picture is encoded again after), until a whole-frame pass finds no face."""
    image, scale = fit_width(image, max_width)
    apply_masks(image, masks, scale)
    # Redacting faces changes the picture around them, and a spot that scored well under the
    # threshold beside them can score over it afterwards: the whole frame is searched again
    # until a pass finds nothing.
    for _ in range(FINAL_PASSES):
        if not redact_faces(image, faces, solid=True):
            break
    return image
