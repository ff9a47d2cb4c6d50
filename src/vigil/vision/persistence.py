"""A condition that must hold for a while before it counts, and be gone a while before it ends.

Scene modules (motion, tampering, stream health) judge each frame or status check and turn the
verdicts into events with this: a fault starts after `on_s` of uninterrupted fault and ends
after `off_s` of uninterrupted recovery, so noise and single frames do not flap events.
"""

from __future__ import annotations

from enum import Enum


class Change(Enum):
    STARTED = "started"
    ENDED = "ended"


class Persistence:
    def __init__(self, on_s: float, off_s: float) -> None:
        self.on_ms = round(on_s * 1000)
        self.off_ms = round(off_s * 1000)
        self.active = False
        self.on_since: int | None = None  # start of the current run of the condition
        self.off_since: int | None = None  # start of the current run without it, while active

    def update(self, condition: bool | None, ts_ms: int) -> Change | None:
        """Feed one verdict; `None` means "cannot judge" (nothing changes, no timer resets)."""
        if condition is None:
            return None
        if not self.active:
            if not condition:
                self.on_since = None
                return None
            if self.on_since is None:
                self.on_since = ts_ms
            if ts_ms - self.on_since >= self.on_ms:
                self.active, self.off_since = True, None
                return Change.STARTED
            return None
        if condition:
            self.off_since = None
            return None
        if self.off_since is None:
            self.off_since = ts_ms
        if ts_ms - self.off_since >= self.off_ms:
            self.active, self.on_since, self.off_since = False, None, None
            return Change.ENDED
        return None

    def reset(self) -> bool:
        """Forget everything; True if a fault was active (the caller ends its event)."""
        was_active = self.active
        self.active, self.on_since, self.off_since = False, None, None
        return was_active
