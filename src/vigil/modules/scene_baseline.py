"""Learn-then-judge: the life of one learned scene baseline (tamper_defocus, tamper_moved and
each region of object_removed).

Each of those modules first learns what the camera normally sees over `learn_s`, then judges
every frame against it; a fault must last `duration_s` (debounced, `modules.debounce`) to start
an event and be gone for `recover_s` to end it, and a fault that lasts `relearn_after_s` is
accepted as the new normal: the event ends with `relearned: True` and the baseline is learned
anew. What a baseline is (a sharpness, an edge map, a median image) stays in the module; this
file owns only that timing and its settings, so the three cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field

from vigil.domain.events import Phase
from vigil.modules.base import ModuleSettings, Signal
from vigil.modules.debounce import Debounce

MIN_LEARN_SAMPLES = 3  # a baseline from fewer samples is one noisy frame, not a scene

# Each timing setting's bounds and meaning, written once; a module redeclares one only to give
# it its own default (`adapt_s: AdaptSeconds = 600.0`), which differs with what it learns.
FaultSeconds = Annotated[float, Field(
    ge=0.0, description="The fault must last this long to start an event",
)]
RecoverSeconds = Annotated[float, Field(
    ge=0.0, description="The fault gone this long ends the event",
)]
LearnSeconds = Annotated[float, Field(
    gt=0.0, description="Seconds at start (and after re-learning) from which the baseline is "
    "learned",
)]
RelearnSeconds = Annotated[float, Field(
    ge=0.0, description="A fault lasting this long is accepted as the new normal: the event "
    "ends and the baseline is learned again (0 = never)",
)]
AdaptSeconds = Annotated[float, Field(
    gt=0.0, description="Time constant with which the baseline follows slow changes of the "
    "scene (only while the camera sees what it learned)",
)]


class BaselineSettings(ModuleSettings):
    """The timing settings of every learn-then-judge module."""

    duration_s: FaultSeconds = 10.0
    recover_s: RecoverSeconds = 3.0
    learn_s: LearnSeconds = 10.0
    relearn_after_s: RelearnSeconds = 600.0


class SceneBaseline:
    """One baseline's learning window, debounced verdicts and re-learning, timed by the
    module's `BaselineSettings`; builds the START/END signals of its event (`key`, `type`,
    `zone`)."""

    def __init__(
        self,
        key: tuple[Any, ...],
        type_: str,
        timing: BaselineSettings,
        *,
        zone: str | None = None,
    ) -> None:
        self.key, self.type, self.zone = key, type_, zone
        self.learn_ms = timing.learn_s * 1000
        self.relearn_ms = timing.relearn_after_s * 1000
        self.debounce = Debounce(timing.duration_s, timing.recover_s)
        self.learned = False
        self.learn_from: int | None = None  # start of the running learning period
        self.started_ms = 0  # start of the open event
        self.events = 0

    @property
    def active(self) -> bool:
        return self.debounce.active

    def learning_since(self, ts_ms: int) -> int:
        """Start of the running learning period; this frame starts one if none runs."""
        if self.learn_from is None:
            self.learn_from = ts_ms
        return self.learn_from

    def learned_by(self, ts_ms: int, samples: int) -> bool:
        """Whether learning ends with this frame: it has lasted `learn_s` and gathered
        `samples` ≥ MIN_LEARN_SAMPLES. On True the caller builds its baseline now."""
        since = self.learning_since(ts_ms)
        if ts_ms - since < self.learn_ms or samples < MIN_LEARN_SAMPLES:
            return False
        self.learned, self.learn_from = True, None
        return True

    def judge(
        self, ts_ms: int, fault: bool, details: Callable[[], dict[str, Any]]
    ) -> list[Signal]:
        """This frame's verdict against the learned baseline, debounced. `details` gives the
        START signal's attributes; it is called only then (some are costly to measure)."""
        change = self.debounce.step(ts_ms, fault)
        if change is Phase.START:
            self.events += 1
            self.started_ms = ts_ms
            return [self._signal(Phase.START, details())]
        if change is Phase.END:
            return [self._signal(Phase.END, {})]
        if self.debounce.active and self.relearn_ms and ts_ms - self.started_ms >= self.relearn_ms:
            return self.relearn()
        return []

    def relearn(self) -> list[Signal]:
        """Accept the current scene: end the open event (marked `relearned`) and learn the
        baseline again from the coming frames."""
        was_active = self.debounce.reset()
        self.forget()
        return [self._signal(Phase.END, {"relearned": True})] if was_active else []

    def forget(self) -> None:
        """Learn again without touching the event (the frame size changed, say)."""
        self.learned, self.learn_from = False, None

    def finish(self) -> list[Signal]:
        """The END of the open event, if any, when the camera stops."""
        return [self._signal(Phase.END, {})] if self.debounce.reset() else []

    def _signal(self, phase: Phase, attributes: dict[str, Any]) -> Signal:
        return Signal(self.key, phase, self.type, zone=self.zone, attributes=attributes)
