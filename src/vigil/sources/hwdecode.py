"""Hardware video decoding behind the FrameSource interface, with CPU decoding as the fallback.

A camera with `hardware_decode: true` tries, in order:
1. NVDEC through PyNvVideoCodec (`SimpleDecoder`, video files only: it needs a seekable file);
2. FFmpeg's `cuda` hardware acceleration through PyAV (files and RTSP);
3. the ordinary CPU source for the URL.
Each camera falls back on its own: a codec NVDEC lacks, a missing package or no GPU at all sends
that camera to the next path, and `decoder` says which path it uses and why it is not the first,
which the reader copies into the camera's status. CPU-only machines therefore run such cameras
unchanged, only with the reason shown.

NVDEC frames stay in GPU memory: the source hands the pipeline a `DeviceImage` (a BGR uint8
torch tensor on the GPU), which is letterboxed into the detector's batch there when the detector
is the torch one (`vision/tensor_frames.py`), and face-redacted there for snapshots and live
frames (`privacy/redact_tensor.py`), so that only the redacted picture is copied to be encoded.
The frame itself is copied to host memory lazily, at most once, and only when something reads
its pixels on the host: modules that look at pixels (motion, tampering, stream health, object
removed), a detector other than the torch one, the live view with face blurring off (an
event's object colour copies only the object's box). Cameras whose modules read only
detections never copy their frames.

The PyAV `cuda` path (RTSP, and files NVDEC's file decoder cannot open) still has FFmpeg
download each frame to host memory. PyAV could leave it on the GPU (`HWAccel(is_hw_owned=True)`
exports NV12 planes through DLPack), but it refuses a CUDA stream to order that export on and
asks callers to synchronise first: a device-wide synchronisation per frame would hold every
decoder thread behind the detector's running batch, so it stays a host path until that
ordering can be had per stream and measured on a GPU.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import av
import av.container
from av.codec.hwaccel import HWAccel

from vigil.domain.frames import DeviceImage
from vigil.domain.source_urls import SourceKind, classify, local_path, redact
from vigil.sources.base import FrameSource, RawFrame, SourceError, SourceOptions
from vigil.sources.pyav import VideoDecoder, first_video_stream, nominal_fps, raw_frame, reason
from vigil.sources.rtsp import _AV_OPTIONS as RTSP_OPTIONS

log = logging.getLogger(__name__)


@runtime_checkable
class ReportsDecoder(Protocol):
    """A source that can say how it decodes (shown in the camera's status)."""

    @property
    def decoder(self) -> str: ...


class NvdecFileSource:
    """A video file decoded by NVDEC (PyNvVideoCodec); frames stay on the GPU as BGR tensors."""

    live = False

    def __init__(self, path: Path, options: SourceOptions) -> None:
        self._path = path
        self._options = options
        self._decoder: Any = None
        self._fps: float | None = None
        self._count = 0
        self._next = 0

    @property
    def nominal_fps(self) -> float | None:
        return self._fps

    def open(self) -> None:
        import PyNvVideoCodec as nvc  # optional, present on GPU workers only

        with av.open(str(self._path)) as container:  # frame rate and length, cheaply
            self._fps = nominal_fps(first_video_stream(container, str(self._path)))
        self._decoder = nvc.SimpleDecoder(
            str(self._path),
            gpu_id=0,
            use_device_memory=True,
            output_color_type=nvc.OutputColorType.RGB,
        )
        self._count = len(self._decoder)
        if self._count == 0:
            raise SourceError(f"{self._path} contains no decodable video frames")
        fps = self._fps or self._options.analysis_fps
        self._next = int(self._options.start_offset_s * fps) % self._count

    def read(self) -> RawFrame | None:
        if self._next >= self._count:
            if not self._options.loop:
                return None
            self._next = 0
        index, self._next = self._next, self._next + 1
        frame = self._decoder[index]
        pts = index / self._fps if self._fps else None
        return RawFrame(
            pts_s=pts,
            to_bgr=lambda: _device_bgr(frame).host(),
            to_device=lambda: _device_bgr(frame),
        )

    def close(self) -> None:
        self._decoder = None


def _device_bgr(frame: Any) -> DeviceImage:
    """The decoder's RGB frame as a BGR tensor of its own on the GPU: the flip is the one copy,
    made on the device, and it frees the decoder to reuse its output buffer."""
    import torch  # present wherever PyNvVideoCodec is

    rgb = torch.from_dlpack(frame)  # H×W×3 uint8 on the GPU, no copy
    return DeviceImage(rgb.flip(-1))


class CudaPyAvSource:
    """Files and RTSP through FFmpeg with the `cuda` hwaccel; fails at open without a GPU."""

    def __init__(self, url: str, options: SourceOptions) -> None:
        self._url = url
        self._kind = classify(url)
        self._options = options
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[av.VideoFrame] = iter(())
        self._first: av.VideoFrame | None = None
        self._fps: float | None = None

    @property
    def live(self) -> bool:
        return self._kind is SourceKind.RTSP

    @property
    def nominal_fps(self) -> float | None:
        return self._fps

    def open(self) -> None:
        target = self._url if self.live else str(local_path(self._url))
        options = dict(RTSP_OPTIONS) if self.live else {}
        accel = HWAccel(device_type="cuda", allow_software_fallback=False)
        try:
            container = av.open(
                target,
                options=options,
                hwaccel=accel,
                timeout=(self._options.open_timeout_s, self._options.read_timeout_s),
            )
            stream = first_video_stream(container, redact(self._url))
            self._container = container
            self._fps = nominal_fps(stream)
            self._frames = iter(VideoDecoder(container, stream))
            # The hardware is only tried by the first decode; fail here, not mid-stream.
            self._first = next(self._frames, None)
        except av.FFmpegError as exc:
            self.close()
            raise SourceError(f"FFmpeg could not decode on the GPU ({reason(exc)})") from None

    def read(self) -> RawFrame | None:
        if self._first is not None:
            first, self._first = self._first, None
            return raw_frame(first)
        try:
            frame = next(self._frames, None)
        except av.FFmpegError as exc:
            raise SourceError(f"lost {redact(self._url)}: {reason(exc)}") from None
        if frame is None and not self.live and self._options.loop:
            self.open()
            return self.read()
        return None if frame is None else raw_frame(frame)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


Backend = tuple[str, Callable[[], FrameSource]]


class HardwareDecodeSource:
    """Tries each hardware path at open; the first that decodes a frame is used."""

    def __init__(self, url: str, options: SourceOptions, cpu: Callable[[], FrameSource]) -> None:
        self._url = url
        self._cpu = cpu
        backends: list[Backend] = []
        if classify(url) is SourceKind.FILE:
            backends.append(("NVDEC", lambda: NvdecFileSource(local_path(url), options)))
        backends.append(("PyAV cuda", lambda: CudaPyAvSource(url, options)))
        self._backends = backends
        self._source: FrameSource | None = None
        self.decoder = "not opened"

    @property
    def live(self) -> bool:
        return classify(self._url) is SourceKind.RTSP

    @property
    def nominal_fps(self) -> float | None:
        return self._source.nominal_fps if self._source is not None else None

    def open(self) -> None:
        reasons: list[str] = []
        for name, make in self._backends:
            source = make()
            try:
                source.open()
            except Exception as exc:
                # Whatever a hardware path raises (package absent, no GPU, driver or codec,
                # the libraries' own exception types) means the same: try the next path.
                source.close()
                reasons.append(f"{name}: {_why(exc)}")
                continue
            self._source, self.decoder = source, name
            return
        self.decoder = "CPU (hardware decode unavailable — " + "; ".join(reasons) + ")"
        log.info("%s: %s", redact(self._url), self.decoder)
        self._source = self._cpu()
        self._source.open()

    def read(self) -> RawFrame | None:
        if self._source is None:
            raise SourceError(f"{redact(self._url)} read before it was opened")
        return self._source.read()

    def close(self) -> None:
        if self._source is not None:
            self._source.close()


def _why(exc: BaseException) -> str:
    if isinstance(exc, ImportError):
        return f"{exc.name or 'package'} is not installed"
    return str(exc) or type(exc).__name__
