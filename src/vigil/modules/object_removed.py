"""Object removed: a registered region whose content changes persistently.

Each region (a polygon in the settings, around a painting, a parked machine, a fire
extinguisher, a display) is compared with a reference learned at start: the per-pixel median of
frames sampled over `learn_s` on the 160-px gray copy, so people passing by while it learns do
not end up in it. On every frame the frame's overall brightness is matched to the reference (a
cloud or a light switched on changes every pixel alike), and a region pixel changed when it
differs by more than `pixel_threshold`; the region has changed when at least `min_changed` of its
pixels have. Changed for `duration_s` gives an `object.removed` scene event whose `zone` is the
region's name; it ends when the region looks like its reference again for `recover_s`.

While a tracked object's box covers a region (`occlusion`), the region is not judged: someone
standing in front of a painting has not taken it. A region that stays changed for
`relearn_after_s` is learned anew (the event ends: the change is accepted); `relearn()` does the
same at once, for an operator who acknowledges the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, field_validator

from vigil.config import CameraConfig
from vigil.modules.base import ModuleBase, ModuleSettings, Signal, Tracks
from vigil.modules.registry import register
from vigil.modules.scene_baseline import BaselineSettings, SceneBaseline
from vigil.vision.pixels import PolygonPoints, box_overlaps_mask, polygon_mask, small_gray

TYPE = "object.removed"
LEARN_SAMPLES = 15  # frames kept for the median of a learning period


class RegionSettings(ModuleSettings):
    name: str = Field(min_length=1, description="Region name, reported as the event's zone")
    polygon: PolygonPoints


class ObjectRemovedSettings(BaselineSettings):
    regions: list[RegionSettings] = Field(
        min_length=1, description="Regions to watch, each a name and a polygon in frame pixels"
    )
    pixel_threshold: int = Field(
        30, ge=1, le=255, description="Gray-level difference from the reference (after "
        "brightness matching) that counts as a changed pixel"
    )
    min_changed: float = Field(
        0.3, gt=0.0, le=1.0, description="Share of the region's pixels that must change"
    )
    occlusion: float = Field(
        0.2, gt=0.0, le=1.0, description="A tracked object whose box covers this share of a "
        "region hides it: the region is not judged meanwhile"
    )

    @field_validator("regions")
    @classmethod
    def _unique_names(cls, regions: list[RegionSettings]) -> list[RegionSettings]:
        names = [region.name for region in regions]
        if len(names) != len(set(names)):
            raise ValueError(f"region names must be unique, got {names}")
        return regions


@dataclass(slots=True)
class _Region:
    name: str
    polygon: list[tuple[float, float]]
    scene: SceneBaseline
    mask: np.ndarray | None = None
    relearn_requested: bool = False
    brightness: float = 0.0  # mean gray level of the whole frame when it was learned
    changed_fraction: float = 0.0
    occluded: bool = False


@register
class ObjectRemovedModule(ModuleBase):
    name: ClassVar[str] = "object_removed"
    description: ClassVar[str] = (
        "Object removed: a registered region's content changes persistently vs. its reference"
    )
    settings_model: ClassVar[type[ObjectRemovedSettings]] = ObjectRemovedSettings

    def __init__(self, settings: ObjectRemovedSettings, camera: CameraConfig) -> None:
        self.settings = settings
        self.regions = [
            _Region(
                region.name,
                list(region.polygon),
                SceneBaseline(("region", region.name), TYPE, settings, zone=region.name),
            )
            for region in settings.regions
        ]
        self._frame_shape: tuple[int, int] | None = None
        self._reference: np.ndarray | None = None  # float32 small gray
        self._samples: list[tuple[int, np.ndarray]] = []  # kept while a region learns

    def relearn(self, region: str | None = None) -> None:
        """Accept the current look of `region` (all when None): its open event ends on the
        next frame and it is learned anew. The hook for an operator's acknowledgement."""
        for item in self.regions:
            if region is None or item.name == region:
                item.relearn_requested = True

    def update(self, tracks: Tracks) -> list[Signal]:
        if tracks.image is None:
            return []
        ts = tracks.ts_ms
        small = small_gray(tracks.image)
        self._prepare(tracks.image.shape[:2], small.shape)
        self._sample(small, ts)
        signals: list[Signal] = []
        current = small.astype(np.float32)
        brightness = float(current.mean())
        assert self._reference is not None
        boxes = tracks.detections.xyxy
        for region in self.regions:
            if region.relearn_requested:
                region.relearn_requested = False
                signals.extend(self._start_learning(region))
            if not region.scene.learned:
                self._finish_learning(region, ts)
                continue
            assert region.mask is not None
            region.occluded = any(
                box_overlaps_mask(box, region.mask, self._frame_shape or (1, 1),
                                  self.settings.occlusion)
                for box in boxes
            )
            if region.occluded:
                continue
            # The whole frame's brightness, then and now: a region's own change barely moves it.
            gain = float(np.clip(region.brightness / max(brightness, 1.0), 0.5, 2.0))
            difference = np.abs(current[region.mask] * gain - self._reference[region.mask])
            region.changed_fraction = float((difference > self.settings.pixel_threshold).mean())
            changed = region.changed_fraction >= self.settings.min_changed
            details = {"changed_fraction": round(region.changed_fraction, 3)}
            signals.extend(region.scene.judge(ts, changed, details.copy))
            if not region.scene.learned:  # the change lasted: accepted, learned anew
                region.changed_fraction = 0.0
        return signals

    def finish(self, ts_ms: int) -> list[Signal]:
        return [signal for region in self.regions for signal in region.scene.finish()]

    def stats(self) -> dict[str, Any]:
        return {
            region.name: {
                "removed": region.scene.active,
                "learning": not region.scene.learned,
                "occluded": region.occluded,
                "changed_fraction": round(region.changed_fraction, 3),
                "events": region.scene.events,
            }
            for region in self.regions
        }

    # internals --------------------------------------------------------------------------------

    def _prepare(self, frame_shape: tuple[int, ...], shape: tuple[int, ...]) -> None:
        frame = (int(frame_shape[0]), int(frame_shape[1]))
        if frame == self._frame_shape and self._reference is not None:
            return
        self._frame_shape = frame
        self._reference = np.zeros(shape[:2], np.float32)
        self._samples = []
        for region in self.regions:
            region.mask = polygon_mask([region.polygon], frame, (int(shape[0]), int(shape[1])))
            region.scene.forget()

    def _start_learning(self, region: _Region) -> list[Signal]:
        region.changed_fraction = 0.0
        return region.scene.relearn()

    def _sample(self, small: np.ndarray, ts: int) -> None:
        """Keep frames for the median while some region learns, about LEARN_SAMPLES per
        learning period."""
        if all(region.scene.learned for region in self.regions):
            self._samples = []
            return
        spacing = self.settings.learn_s * 1000 / LEARN_SAMPLES
        if not self._samples or ts - self._samples[-1][0] >= spacing:
            self._samples.append((ts, small.copy()))
        oldest = ts - 2 * self.settings.learn_s * 1000
        self._samples = [item for item in self._samples if item[0] >= oldest]

    def _finish_learning(self, region: _Region, ts: int) -> None:
        since = region.scene.learning_since(ts)
        frames = [image for sample_ts, image in self._samples if sample_ts >= since]
        if not region.scene.learned_by(ts, len(frames)):
            return
        assert self._reference is not None and region.mask is not None
        median = np.median(np.stack(frames), axis=0).astype(np.float32)
        self._reference[region.mask] = median[region.mask]
        region.brightness = float(median.mean())
