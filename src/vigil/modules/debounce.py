"""Debouncing of an on/off condition: it must hold for `on_s` before it counts, and must have
stopped holding for `off_s` before it ends.

Every module that turns per-frame verdicts into events that last uses this one class: crowds
(occupancy, queue), parked cars, speeding tracks, and the scene faults (motion, tampering,
stream health). Before, two classes did it and gave different start times for the same input.
The rule kept is that a dip shorter than `off_s` is noise in both directions: it neither ends an
active condition nor restarts a pending one (counts, speeds and scene scores flicker with every
missed detection or noisy frame). The end is timed from the last time the condition held.
"""

from __future__ import annotations

from vigil.domain.events import Phase


class Debounce:
    """One condition's state; feed it verdicts in time order with `step`."""

    __slots__ = ("active", "ended", "last_true_ms", "off_ms", "on_ms", "since_ms")

    def __init__(self, on_s: float, off_s: float) -> None:
        self.on_ms = round(on_s * 1000)
        self.off_ms = round(off_s * 1000)
        self.since_ms: int | None = None  # first time it held, in the current episode
        self.last_true_ms: int | None = None
        self.active = False
        # (first, last) time the condition held in the episode that ended last
        self.ended: tuple[int, int] | None = None

    def step(self, now_ms: int, holds: bool | None) -> Phase | None:
        """START when the condition becomes active, END when it ends, else None.

        `holds=None` means "cannot judge" (no frame, a dark scene): nothing changes and no
        timer restarts."""
        if holds is None:
            return None
        if holds:
            if self.since_ms is None:
                self.since_ms = now_ms
            self.last_true_ms = now_ms
            if not self.active and now_ms - self.since_ms >= self.on_ms:
                self.active = True
                return Phase.START
            return None
        if self.last_true_ms is not None and now_ms - self.last_true_ms > self.off_ms:
            was_active = self.active
            first = self.since_ms if self.since_ms is not None else self.last_true_ms
            self.ended = (first, self.last_true_ms)
            self.since_ms = self.last_true_ms = None
            self.active = False
            return Phase.END if was_active else None
        return None

    @property
    def idle(self) -> bool:
        """Neither active nor pending: the holder may forget it."""
        return self.since_ms is None

    def held_s(self, now_ms: int) -> float:
        return 0.0 if self.since_ms is None else (now_ms - self.since_ms) / 1000

    def reset(self) -> bool:
        """Forget everything; True if the condition was active (the caller ends its event)."""
        was_active = self.active
        self.since_ms = self.last_true_ms = None
        self.active = False
        return was_active
