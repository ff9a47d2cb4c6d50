#!/usr/bin/python3
"""Serve an MP4 file as a looping live RTSP camera on 127.0.0.1, without re-encoding.

Run with the system Python, which has GStreamer's `gi` bindings (virtual environments do not):

    /usr/bin/python3 tools/rtsp_server.py media/vtest.mp4 8554 cam

Prints `ready rtsp://127.0.0.1:PORT/NAME` once it listens (PORT 0 picks a free port and the
line names it) and exits cleanly on SIGTERM or SIGINT.
Needs Debian packages gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gst-1.0
gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad.

How it loops: each RTSP media gets its own small demux pipeline (filesrc ! qtdemux ! h264parse
! appsink) whose H.264 access units are pushed into the served pipeline's appsrc. At the end of
the file the demuxer is seeked back to the start and the timestamps of the next pass are offset
by the clip's length, so clients see one continuous stream like a real camera's. A clocksync
element paces the stream at media speed.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

_CHECK_TIMEOUT_NS = 30 * Gst.SECOND
# Element -> Debian package that provides it, to name what is missing.
_NEEDED = {
    "filesrc": "libgstreamer1.0-0",
    "clocksync": "libgstreamer1.0-0",
    "appsrc": "gstreamer1.0-plugins-base",
    "appsink": "gstreamer1.0-plugins-base",
    "qtdemux": "gstreamer1.0-plugins-good",
    "rtph264pay": "gstreamer1.0-plugins-good",
    "h264parse": "gstreamer1.0-plugins-bad",
}
_SERVED = (
    "( appsrc name=src format=time is-live=false do-timestamp=false"
    " ! clocksync ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)


class LoopingFeeder:
    """Reads one MP4's H.264 access units forever, with timestamps that keep increasing."""

    def __init__(self, path: Path) -> None:
        location = str(path).replace("\\", "\\\\").replace('"', '\\"')
        self._demux = Gst.parse_launch(
            f'filesrc location="{location}" ! qtdemux ! h264parse'
            " ! video/x-h264,stream-format=avc,alignment=au"
            " ! appsink name=sink sync=false max-buffers=16"
        )
        self._sink = self._demux.get_by_name("sink")
        self._offset = 0  # ns added to this pass's timestamps
        self._pass_start: int | None = None  # ns: earliest pts of the current pass (file time)
        self._pass_end = 0  # ns: end of the latest buffer of the current pass (file time)

    def check(self) -> str | None:
        """Why the file cannot be served (no H.264 track, unreadable), or None if it can.

        Run once at startup, so that serving can use blocking pulls: a pull with a timeout
        would end or stall the stream whenever a loaded machine is slower than the timeout.
        """
        self._demux.set_state(Gst.State.PAUSED)
        bus = self._demux.get_bus()
        message = bus.timed_pop_filtered(
            _CHECK_TIMEOUT_NS, Gst.MessageType.ERROR | Gst.MessageType.ASYNC_DONE
        )
        self._demux.set_state(Gst.State.NULL)
        if message is None:
            return "the file did not start playing within 30 s"
        if message.type == Gst.MessageType.ERROR:
            error, _debug = message.parse_error()
            return f"not an MP4 file with an H.264 video track ({error.message})"
        return None

    def start(self) -> Gst.Caps:
        """Starts demuxing and returns the stream's caps (needed by the appsrc up front)."""
        self._demux.set_state(Gst.State.PLAYING)
        caps: Gst.Caps = self._sink.emit("pull-preroll").get_caps()
        return caps

    def stop(self) -> None:
        self._demux.set_state(Gst.State.NULL)

    def next_buffer(self) -> Gst.Buffer | None:
        # pull-sample returns None only at the end of the file, or when the media is being
        # torn down (then the rewind's pull returns None too and the stream ends).
        sample = self._sink.emit("pull-sample")
        if sample is None:
            self._rewind()
            sample = self._sink.emit("pull-sample")
        if sample is None:
            return None
        buf: Gst.Buffer = sample.get_buffer().copy()
        duration = buf.duration if buf.duration != Gst.CLOCK_TIME_NONE else 0
        if buf.pts != Gst.CLOCK_TIME_NONE:
            if self._pass_start is None or buf.pts < self._pass_start:
                self._pass_start = buf.pts
            self._pass_end = max(self._pass_end, buf.pts + duration)
            buf.pts += self._offset
        if buf.dts != Gst.CLOCK_TIME_NONE:
            buf.dts += self._offset
        return buf

    def _rewind(self) -> None:
        # The next pass's first frame must follow this pass's last one by one frame, so the
        # offset grows by the pass's span (pts may start above 0 because of B-frame delay).
        self._offset += self._pass_end - (self._pass_start or 0)
        self._pass_start = None
        self._pass_end = 0
        self._demux.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT, 0)


class LoopingFactory(GstRtspServer.RTSPMediaFactory):
    """One shared media per mount; each (re)prepared media gets a fresh feeder."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        self.set_launch(_SERVED)
        self.set_shared(True)
        self.connect("media-configure", self._on_media_configure)

    def _on_media_configure(
        self, _factory: GstRtspServer.RTSPMediaFactory, media: GstRtspServer.RTSPMedia
    ) -> None:
        feeder = LoopingFeeder(self._path)
        appsrc = media.get_element().get_by_name("src")
        appsrc.set_property("caps", feeder.start())
        appsrc.connect("need-data", self._on_need_data, feeder)
        media.connect("unprepared", lambda _media: feeder.stop())

    @staticmethod
    def _on_need_data(appsrc: Gst.Element, _length: int, feeder: LoopingFeeder) -> None:
        buf = feeder.next_buffer()
        if buf is None:
            appsrc.emit("end-of-stream")
        else:
            appsrc.emit("push-buffer", buf)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="MP4 file with an H.264 video track")
    parser.add_argument("port", type=int, help="TCP port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("name", nargs="?", default="cam", help="mount name (default: cam)")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        parser.error(f"no such file: {args.file}")

    Gst.init(None)
    missing = [
        f"{name} ({pkg})" for name, pkg in _NEEDED.items() if not Gst.ElementFactory.find(name)
    ]
    if missing:
        print(f"missing GStreamer elements: {', '.join(missing)}", file=sys.stderr, flush=True)
        return 1
    problem = LoopingFeeder(args.file).check()
    if problem is not None:
        print(f"cannot serve {args.file}: {problem}", file=sys.stderr, flush=True)
        return 1
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    server.get_mount_points().add_factory(f"/{args.name}", LoopingFactory(args.file.resolve()))
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
        return 1

    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    print(f"ready rtsp://127.0.0.1:{server.get_bound_port()}/{args.name}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
