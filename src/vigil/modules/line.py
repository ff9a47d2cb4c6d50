"""Directional line crossing with per-class counts.

Direction follows supervision's `LineZone`: looking from the line's start towards its end, an
object crossing from the right-hand side to the left-hand side goes "in", the other way "out".
The object's bottom-centre (where it stands) is what crosses.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from pydantic import Field

from vigil.config import CameraConfig, LineConfig
from vigil.domain.events import Phase
from vigil.modules.base import (
    ModuleBase,
    ModuleSettings,
    Signal,
    Tracks,
    class_allowed,
    signal_for,
)
from vigil.modules.geometry import LineCounter
from vigil.modules.registry import register


class LineSettings(ModuleSettings):
    lines: list[str] | None = Field(
        None, description="Line names to count on; all lines when unset"
    )
    classes: list[str] | None = Field(None, description="Object classes to count; all when unset")
    min_crossing_frames: int = Field(
        1, ge=1, description="Frames an object must stay on the far side before it counts"
    )


class _CountedLine:
    def __init__(self, line: LineConfig, classes: list[str] | None, min_frames: int) -> None:
        self.config = line
        self.classes = (
            line.classes
            if classes is None
            else [name for name in classes if line.classes is None or name in line.classes]
        )
        self.counter = LineCounter(line.start, line.end, min_frames)
        self.counts: Counter[tuple[str, str]] = Counter()  # (class name, direction)

    def update(self, tracks: Tracks) -> list[Signal]:
        crossings = self.counter.crossed(tracks)
        names = tracks.class_names()
        signals: list[Signal] = []
        for index, direction in crossings:
            class_name = str(names[index])
            if not class_allowed(class_name, self.classes):
                continue
            self.counts[(class_name, direction)] += 1
            track_id = int(tracks.detections.tracker_id[index])  # type: ignore[index]
            key = (self.config.name, track_id, tracks.ts_ms, direction)
            signals.append(
                signal_for(
                    tracks,
                    index,
                    key,
                    Phase.END,
                    "line.crossing",
                    line=self.config.name,
                    direction=direction,
                    instant=True,
                )
            )
        return signals


@register
class LineModule(ModuleBase):
    name: ClassVar[str] = "line"
    description: ClassVar[str] = "Directional line crossing with per-class in/out counts"
    settings_model: ClassVar[type[LineSettings]] = LineSettings

    def __init__(self, settings: LineSettings, camera: CameraConfig) -> None:
        self.lines = [
            _CountedLine(line, settings.classes, settings.min_crossing_frames)
            for line in camera.lines
            if settings.lines is None or line.name in settings.lines
        ]

    def update(self, tracks: Tracks) -> list[Signal]:
        return [signal for line in self.lines for signal in line.update(tracks)]

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for line in self.lines:
            per_class: dict[str, dict[str, int]] = {}
            for (class_name, direction), count in line.counts.items():
                per_class.setdefault(class_name, {"in": 0, "out": 0})[direction] = count
            result[line.config.name] = per_class
        return result
