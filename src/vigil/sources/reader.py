"""CameraReader: one thread per camera, from its source to the pipeline's callback."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable

from vigil.domain.frames import Frame, SourceStatus, now_ms
from vigil.domain.source_urls import classify, redact
from vigil.sources.backoff import Backoff
from vigil.sources.base import UNREACHABLE, FrameSource, RawFrame, SourceError, SourceOptions
from vigil.sources.clock import MediaClock
from vigil.sources.factory import create_source
from vigil.sources.hwdecode import ReportsDecoder
from vigil.sources.pacer import Pacer
from vigil.sources.policy import SourcePolicy
from vigil.sources.pyav import PacketSink
from vigil.sources.rate import RateMeter
from vigil.sources.sampler import FpsSampler

logger = logging.getLogger(__name__)

FrameCallback = Callable[[Frame], None]

# Timestamp jumps forward up to this far are real gaps (a stalled camera, a slow snapshot);
# beyond it they are treated as discontinuities (see MediaClock).
_MIN_MAX_GAP_S = 5.0


class CameraReader:
    """Reads one camera in its own thread and hands sampled frames to `on_frame`.

    Frames are sampled at `analysis_fps` by media time. Each gets a `seq` that only grows
    and a `ts_ms` on the camera's clock: for live sources the wall clock at receipt, for
    files and still images the wall clock at opening plus media time (continuing across
    loops and reopenings), so analysing a file faster than real time keeps true durations.

    Failures to open or read, and the end of a live stream, are retried with exponential
    backoff; `status` says what is happening in words an operator can act on. Nothing a
    source does can escape this reader's thread. A file read once (`loop=False`) or a
    still image not looped ends the thread: `finished` becomes True and `join` returns.
    `realtime` paces files and still images at media speed (a demo camera); without it
    they are read as fast as they decode (offline analysis, benchmarks).

    `on_frame` runs on the reader's thread; it should hand the frame off quickly.

    With a `policy` (a camera whose URL a tenant chose) every open is checked by it, and
    `status.last_error` says only "unreachable", "refused by policy" or "not a video stream";
    the full reason goes to the server log, for the system administrator.
    """

    def __init__(
        self,
        camera_id: str,
        url: str,
        analysis_fps: float,
        on_frame: FrameCallback,
        *,
        loop: bool = True,
        start_offset_s: float = 0.0,
        realtime: bool = True,
        open_timeout_s: float = 5.0,
        read_timeout_s: float = 5.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        hardware_decode: bool = False,
        packets: PacketSink | None = None,
        policy: SourcePolicy | None = None,
    ) -> None:
        classify(url)  # a URL no source can read is a configuration error: raise it here
        if start_offset_s < 0:
            raise ValueError(f"start offset must not be negative, got {start_offset_s}")
        self.camera_id = camera_id
        self.url = url
        self._shown = redact(url)
        self._on_frame = on_frame
        self._loop = loop
        self._realtime = realtime
        self._cancel = threading.Event()
        self._options = SourceOptions(
            analysis_fps=analysis_fps,
            loop=loop,
            start_offset_s=start_offset_s,
            open_timeout_s=open_timeout_s,
            read_timeout_s=read_timeout_s,
            cancel=self._cancel,
            hardware_decode=hardware_decode,
            packets=packets,
            policy=policy,
        )
        self._sampler = FpsSampler(analysis_fps)
        period_s = 1.0 / analysis_fps
        self._clock = MediaClock(max_gap_s=max(_MIN_MAX_GAP_S, 3 * period_s), step_s=period_s)
        self._backoff = Backoff(backoff_initial_s, backoff_max_s)
        self._meter = RateMeter()
        self._lock = threading.Lock()  # guards _status and _meter, read by other threads
        self._status = SourceStatus()
        self._last_message: str | None = None  # the full reason of the latest error, for logs
        self._ever_online = False
        self._seq = 0
        self._last_ts_ms: int | None = None
        self._origin_ms: int | None = None  # wall clock when a file was first opened
        self._callback_failing = False
        self._thread = threading.Thread(target=self._run, name=f"camera-{camera_id}", daemon=True)

    @property
    def status(self) -> SourceStatus:
        """A snapshot of the input's state (safe to call from any thread)."""
        with self._lock:
            fps = round(self._meter.rate(time.monotonic()), 2)
            return dataclasses.replace(self._status, input_fps=fps)

    @property
    def finished(self) -> bool:
        """True once the reader's thread has ended (source done, or stopped)."""
        return self._thread.ident is not None and not self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float | None = 2.0) -> None:
        """Asks the reader to stop and waits up to `timeout_s` for its thread to end.

        Usually it ends within a frame interval. A read blocked on a silent network camera
        cannot be interrupted and ends at the read timeout; the thread is a daemon, so it
        never holds up the process's exit.
        """
        self._cancel.set()
        self.join(timeout_s)

    def join(self, timeout_s: float | None = None) -> bool:
        """Waits for the thread to end (a once-only file to be read); True if it has."""
        if self._thread.ident is not None:
            self._thread.join(timeout_s)
        return self.finished

    def _run(self) -> None:
        try:
            self._read_until_done()
        except Exception as exc:  # the thread boundary: log, report, never propagate
            logger.exception("camera %s: reader failed", self.camera_id)
            self._record_error(f"internal error while reading {self._shown}: {exc!r}", UNREACHABLE)
        finally:
            with self._lock:
                self._status.online = False

    def _read_until_done(self) -> None:
        while not self._cancel.is_set():
            try:
                source = create_source(self.url, self._options)
            except SourceError as exc:  # refused by the policy: it may be changed, retry
                self._record_error(str(exc), exc.public)
                if self._cancel.wait(self._backoff.next_delay()):
                    return
                continue
            ended = self._play(source)
            if self._cancel.is_set():
                return
            if not source.live and not self._loop:
                logger.info(
                    "camera %s: finished %s (%d frames sampled)",
                    self.camera_id,
                    self._shown,
                    self.status.frames_sampled,
                )
                return
            if ended:
                self._record_error(f"{self._shown} ended the stream", UNREACHABLE)
            if self._cancel.wait(self._backoff.next_delay()):
                return

    def _play(self, source: FrameSource) -> bool:
        """Reads one opened session of the source; True if it ended by itself."""
        try:
            source.open()
            if isinstance(source, ReportsDecoder):
                with self._lock:
                    self._status.decoder = source.decoder
            fps = source.nominal_fps
            self._clock.restart(1.0 / fps if fps else None)
            if self._origin_ms is None:
                self._origin_ms = now_ms()
            pacer = Pacer(self._cancel) if self._realtime and not source.live else None
            while not self._cancel.is_set():
                raw = source.read()
                if raw is None:
                    return True
                self._deliver(raw, source.live, pacer)
            return False
        except SourceError as exc:
            self._record_error(str(exc), exc.public)
            return False
        except Exception as exc:  # an unforeseen library error: keep the camera retrying
            logger.exception("camera %s: unexpected error reading %s", self.camera_id, self._shown)
            self._record_error(f"unexpected error reading {self._shown}: {exc!r}", UNREACHABLE)
            return False
        finally:
            source.close()
            if self._options.packets is not None:
                self._options.packets.closed()  # a session's last segment ends with it
            with self._lock:
                self._status.online = False

    def _deliver(self, raw: RawFrame, live: bool, pacer: Pacer | None) -> None:
        media_s = self._clock.advance(raw.pts_s)
        if pacer is not None and not pacer.wait(media_s):
            return
        self._count_read()
        if not self._sampler.accept(media_s):
            return
        image = raw.pixels()
        frame = Frame(self.camera_id, self._seq, self._timestamp(media_s, live), image)
        self._seq += 1
        with self._lock:
            self._status.frames_sampled += 1
            self._status.height, self._status.width = image.shape[:2]
        try:
            self._on_frame(frame)
        except Exception:  # a pipeline bug must not stop the camera; log it once per run
            if not self._callback_failing:
                logger.exception("camera %s: frame callback failed", self.camera_id)
            self._callback_failing = True
        else:
            self._callback_failing = False

    def _count_read(self) -> None:
        with self._lock:
            status = self._status
            status.frames_read += 1
            status.last_frame_ms = now_ms()
            self._meter.tick(time.monotonic())
            came_online = not status.online
            if came_online:
                status.online = True
                if self._ever_online:
                    status.reconnects += 1
                self._ever_online = True
        if came_online:
            self._backoff.reset()
            logger.info("camera %s: receiving frames from %s", self.camera_id, self._shown)

    def _timestamp(self, media_s: float, live: bool) -> int:
        if live or self._origin_ms is None:
            ts = now_ms()
        else:
            ts = self._origin_ms + round(media_s * 1000)
        # Modules measure durations on ts_ms: it must never repeat or go back, even if the
        # wall clock is stepped back by NTP.
        if self._last_ts_ms is not None and ts <= self._last_ts_ms:
            ts = self._last_ts_ms + 1
        self._last_ts_ms = ts
        return ts

    def _record_error(self, message: str, public: str) -> None:
        shown = message if self._options.policy is None else public
        with self._lock:
            repeated = message == self._last_message
            self._last_message = message
            self._status.last_error = shown
            self._status.online = False
        # A camera that stays down fails the same way on every retry: say it once.
        logger.log(
            logging.DEBUG if repeated else logging.WARNING, "camera %s: %s", self.camera_id, message
        )
