"""Chooses which frames are analysed, by media time rather than by counting frames."""

from __future__ import annotations


class FpsSampler:
    """Accepts frames at most `fps` times per second of media time.

    Counting frames ("every 3rd") is wrong for variable-rate cameras and for files whose rate
    is not a multiple of the analysis rate; media time is right for both. When the analysis
    rate is at or above the source's rate every frame is accepted.
    """

    def __init__(self, fps: float) -> None:
        if fps <= 0:
            raise ValueError(f"analysis fps must be positive, got {fps}")
        self._period_s = 1.0 / fps
        # Frames arrive on a grid that rarely matches the sampling grid exactly (and float
        # sums drift); a quarter period of slack keeps the mean rate exact without skipping
        # a frame that is due a hair early.
        self._slack_s = self._period_s / 4
        self._due_s: float | None = None

    def accept(self, t_s: float) -> bool:
        """True if the frame at media time `t_s` (non-decreasing) should be analysed."""
        if self._due_s is not None and t_s < self._due_s - self._slack_s:
            return False
        if self._due_s is None or t_s - self._due_s >= self._period_s:
            # First frame, or the stream fell behind by more than a period: re-anchor rather
            # than accept a burst of frames to catch up.
            self._due_s = t_s + self._period_s
        else:
            self._due_s += self._period_s
        return True
