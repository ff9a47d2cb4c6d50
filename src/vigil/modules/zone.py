"""Zone presence: one event per visit of an object to a zone, from entry to exit."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from vigil.config import CameraConfig
from vigil.modules.base import ModuleSettings
from vigil.modules.dwell import DwellZonesModule, watched_zones
from vigil.modules.registry import register


class ZoneSettings(ModuleSettings):
    zones: list[str] | None = Field(None, description="Zone names to watch; all zones when unset")
    classes: list[str] | None = Field(None, description="Object classes to report; all when unset")
    min_duration_s: float = Field(0.0, ge=0.0, description="Ignore visits shorter than this")
    exit_grace_s: float = Field(1.0, ge=0.0, description="Outside/unseen this long ends a visit")
    update_every_s: float = Field(5.0, gt=0.0, description="Dwell updates while the visit lasts")


@register
class ZoneModule(DwellZonesModule):
    name: ClassVar[str] = "zone"
    description: ClassVar[str] = (
        "Zone presence, entry and exit: one event per visit, with dwell time"
    )
    settings_model: ClassVar[type[ZoneSettings]] = ZoneSettings
    event_type: ClassVar[str] = "zone.presence"
    sample_metric: ClassVar[str] = "occupancy"

    def __init__(self, settings: ZoneSettings, camera: CameraConfig) -> None:
        self.zones = watched_zones(
            camera,
            settings.zones,
            event_type=self.event_type,
            classes=settings.classes,
            min_dwell_s=settings.min_duration_s,
            exit_grace_s=settings.exit_grace_s,
            update_every_s=settings.update_every_s,
        )

    def stats(self) -> dict[str, Any]:
        return {
            zone.zone.name: {"occupancy": zone.occupancy, "entries": zone.entries}
            for zone in self.zones
        }
