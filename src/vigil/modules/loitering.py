"""Loitering: an object stays in a zone longer than a threshold."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from vigil.config import CameraConfig
from vigil.modules.base import ModuleSettings
from vigil.modules.dwell import DwellZonesModule, watched_zones
from vigil.modules.registry import register


class LoiteringSettings(ModuleSettings):
    zones: list[str] | None = Field(None, description="Zone names to watch; all zones when unset")
    classes: list[str] | None = Field(["person"], description="Object classes that can loiter")
    threshold_s: float = Field(30.0, gt=0.0, description="Dwell after which the event starts")
    exit_grace_s: float = Field(2.0, ge=0.0, description="Outside/unseen this long ends it")
    update_every_s: float = Field(5.0, gt=0.0, description="Dwell updates while it lasts")


@register
class LoiteringModule(DwellZonesModule):
    name: ClassVar[str] = "loitering"
    description: ClassVar[str] = "Loitering: an object stays in a zone longer than a threshold"
    settings_model: ClassVar[type[LoiteringSettings]] = LoiteringSettings
    sample_metric: ClassVar[str] = "loitering"

    def __init__(self, settings: LoiteringSettings, camera: CameraConfig) -> None:
        self.zones = watched_zones(
            camera,
            settings.zones,
            event_type="loitering",
            classes=settings.classes,
            min_dwell_s=settings.threshold_s,
            exit_grace_s=settings.exit_grace_s,
            update_every_s=settings.update_every_s,
        )

    def stats(self) -> dict[str, Any]:
        return {zone.zone.name: {"loitering": zone.occupancy} for zone in self.zones}
