"""A continuous media timeline built from timestamps that may jump."""

from __future__ import annotations

_MAX_STEP_S = 1.0


class MediaClock:
    """Turns a source's presentation times into seconds since the reader's first frame.

    Real streams jump: an RTSP camera restarts its timestamps, a looping file goes back to
    zero, a reconnect starts a new stream, a camera stalls and resumes far ahead. Taken
    literally, a backwards jump would stall the sampler (it waits for a time that already
    passed) and a forward jump would make realtime playback sleep or the sampler burst.
    Here every jump, backwards or larger than `max_gap_s`, counts as one ordinary frame
    step, so the timeline only moves forward at the pace of the media.
    """

    def __init__(self, max_gap_s: float, step_s: float) -> None:
        self._max_gap_s = max_gap_s
        self._step_s = step_s  # duration of one frame: learnt from the stream as it plays
        self._now_s: float | None = None
        self._last_pts_s: float | None = None

    def restart(self, step_s: float | None) -> None:
        """A new stream begins (reconnect or reopen): its first frame follows the last one."""
        self._last_pts_s = None
        if step_s is not None and step_s > 0:
            self._step_s = step_s

    def advance(self, pts_s: float | None) -> float:
        """Places the next frame on the timeline and returns its time in seconds."""
        if self._now_s is None:
            self._now_s = 0.0
        elif pts_s is None or self._last_pts_s is None:
            self._now_s += self._step_s
        else:
            delta = pts_s - self._last_pts_s
            if 0.0 < delta <= self._max_gap_s:
                self._now_s += delta
                # A real pause (a camera stalling for 3 s) is not a frame's duration.
                self._step_s = min(delta, _MAX_STEP_S)
            else:
                self._now_s += self._step_s
        if pts_s is not None:
            self._last_pts_s = pts_s
        elif self._last_pts_s is not None:
            self._last_pts_s += self._step_s
        return self._now_s
