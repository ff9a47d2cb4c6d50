"""Tampering: lens covered or image blacked out.

A covered lens (a hand, tape, a bag, spray paint) or a dead sensor gives an image without
structure: dark or bright, but uniform. The frame is cut into cells of about 16×16 pixels of the
160-px gray copy (about 1/10 of the width); a cell is blank when its gray levels vary less than
`min_std`, and the lens counts as covered when at least `covered_fraction` of the cells are
blank. A `tamper.covered` scene event starts after `duration_s` of cover and ends after
`recover_s` without it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from vigil.config import CameraConfig
from vigil.domain.events import Phase
from vigil.modules.base import ModuleBase, ModuleSettings, Signal, Tracks
from vigil.modules.debounce import Debounce
from vigil.modules.registry import register
from vigil.vision.pixels import cell_std, small_gray

KEY = ("covered",)
CELL = 16


class CoveredSettings(ModuleSettings):
    min_std: float = Field(
        6.0, gt=0.0, le=128.0, description="A cell whose gray levels (0-255) vary less than "
        "this standard deviation is blank"
    )
    covered_fraction: float = Field(
        0.8, gt=0.0, le=1.0, description="Share of blank cells from which the lens counts as "
        "covered (1.0 = the whole image)"
    )
    duration_s: float = Field(5.0, ge=0.0, description="Cover must last this long to start")
    recover_s: float = Field(2.0, ge=0.0, description="No cover this long ends the event")


@register
class TamperCoveredModule(ModuleBase):
    name: ClassVar[str] = "tamper_covered"
    description: ClassVar[str] = (
        "Tampering: lens covered or blackout (a uniform, structureless image for a while)"
    )
    settings_model: ClassVar[type[CoveredSettings]] = CoveredSettings

    def __init__(self, settings: CoveredSettings, camera: CameraConfig) -> None:
        self.settings = settings
        self.persistence = Debounce(settings.duration_s, settings.recover_s)
        self.blank_fraction = 0.0
        self.brightness = 0.0
        self.events = 0

    def update(self, tracks: Tracks) -> list[Signal]:
        if tracks.image is None:
            return []
        small = small_gray(tracks.image)
        blank = cell_std(small, CELL) < self.settings.min_std
        self.blank_fraction = float(blank.mean())
        self.brightness = float(small.mean())
        covered = self.blank_fraction >= self.settings.covered_fraction
        change = self.persistence.step(tracks.ts_ms, covered)
        if change is Phase.START:
            self.events += 1
            attributes = {
                "covered_fraction": round(self.blank_fraction, 3),
                "brightness": round(self.brightness, 1),
            }
            return [Signal(KEY, Phase.START, "tamper.covered", attributes=attributes)]
        if change is Phase.END:
            return [Signal(KEY, Phase.END, "tamper.covered")]
        return []

    def finish(self, ts_ms: int) -> list[Signal]:
        return [Signal(KEY, Phase.END, "tamper.covered")] if self.persistence.reset() else []

    def stats(self) -> dict[str, Any]:
        return {
            "covered": self.persistence.active,
            "covered_fraction": round(self.blank_fraction, 3),
            "brightness": round(self.brightness, 1),
            "events": self.events,
        }
