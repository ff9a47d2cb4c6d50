"""Video files through PyAV: once or looping, from a start offset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import av.container

from vigil.sources.base import NOT_A_VIDEO_STREAM, RawFrame, SourceError, SourceOptions
from vigil.sources.pyav import (
    VideoDecoder,
    first_video_stream,
    nominal_fps,
    raw_frame,
    reason,
)

# A file whose packets stop this long before its declared duration was cut short.
_TRUNCATION_TOLERANCE_S = 0.5


class FileSource:
    """Decodes a video file as fast as asked; the reader paces it for realtime playback.

    Looping reopens the file rather than seeking back, because after the end of a damaged
    file the demuxer's state cannot be trusted, and reopening costs milliseconds.
    """

    live = False

    def __init__(self, path: Path, options: SourceOptions) -> None:
        self._path = path
        self._options = options
        self._container: av.container.InputContainer | None = None
        self._decoder: VideoDecoder | None = None
        self._frames: Iterator[av.VideoFrame] = iter(())
        self._declared_end_s: float | None = None
        self._skip_before_s: float | None = None  # frames decoded after seeking to the offset
        self._fps: float | None = None

    @property
    def nominal_fps(self) -> float | None:
        return self._fps

    def open(self) -> None:
        self._open_at(self._options.start_offset_s)

    def read(self) -> RawFrame | None:
        while True:
            try:
                frame = next(self._frames, None)
            except av.FFmpegError as exc:
                raise SourceError(
                    f"cannot decode {self._path}: {reason(exc)}", NOT_A_VIDEO_STREAM
                ) from None
            if frame is None:
                self._check_complete()
                if not self._options.loop:
                    return None
                self._open_at(0.0)
                continue
            if self._skip_before_s is not None:
                if frame.time is not None and frame.time < self._skip_before_s:
                    continue
                self._skip_before_s = None
            return raw_frame(frame)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def _open_at(self, offset_s: float) -> None:
        self.close()
        if not self._path.is_file():
            raise SourceError(f"cannot open {self._path}: no such file")
        try:
            # Only the file itself: a playlist or concat file must not make FFmpeg open
            # network URLs or other files on the camera's behalf.
            container = av.open(str(self._path), mode="r", options={"protocol_whitelist": "file"})
        except av.FFmpegError as exc:
            raise SourceError(
                f"cannot open {self._path}: not a readable video file ({reason(exc)})",
                NOT_A_VIDEO_STREAM,
            ) from None
        self._container = container
        stream = first_video_stream(container, str(self._path))
        self._fps = nominal_fps(stream)
        time_base = stream.time_base
        if time_base is None:
            raise SourceError(
                f"cannot open {self._path}: its video track has no time base", NOT_A_VIDEO_STREAM
            )
        start_s = float(stream.start_time * time_base) if stream.start_time else 0.0
        length_s = float(stream.duration * time_base) if stream.duration else None
        self._declared_end_s = start_s + length_s if length_s else None
        self._skip_before_s = None
        if offset_s > 0:
            target_s = start_s + self._wrap_offset(offset_s, length_s)
            self._seek(container, stream, int(target_s / time_base), target_s)
        self._decoder = VideoDecoder(container, stream, self._options.packets)
        self._frames = iter(self._decoder)

    def _wrap_offset(self, offset_s: float, length_s: float | None) -> float:
        if length_s is None or offset_s < length_s:
            return offset_s
        if self._options.loop:
            return offset_s % length_s
        raise SourceError(
            f"start offset {offset_s:g} s is past the end of {self._path} ({length_s:.1f} s)"
        )

    def _seek(
        self,
        container: av.container.InputContainer,
        stream: av.VideoStream,
        target_pts: int,
        target_s: float,
    ) -> None:
        # Seeking lands on the keyframe at or before the target; the frames between it and
        # the target are decoded (they are needed as references) but not delivered.
        try:
            container.seek(target_pts, stream=stream, backward=True)
        except av.FFmpegError as exc:
            raise SourceError(
                f"cannot seek to {target_s:g} s in {self._path}: {reason(exc)}"
            ) from None
        half_frame_s = 0.5 / self._fps if self._fps else 0.0
        self._skip_before_s = target_s - half_frame_s

    def _check_complete(self) -> None:
        decoder = self._decoder
        if decoder is None:
            return
        if decoder.frames == 0:
            raise SourceError(
                f"{self._path} contains no decodable video frames", NOT_A_VIDEO_STREAM
            )
        declared = self._declared_end_s
        reached = decoder.end_s
        if (
            declared is not None
            and reached is not None
            and reached < declared - _TRUNCATION_TOLERANCE_S
        ):
            raise SourceError(
                f"{self._path} ends at {reached:.1f} s of its declared {declared:.1f} s:"
                " the file is truncated or corrupt",
                NOT_A_VIDEO_STREAM,
            )
