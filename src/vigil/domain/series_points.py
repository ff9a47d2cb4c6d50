"""Statistics series: per-minute aggregates of module samples, as they travel on the bus."""

from __future__ import annotations

from pydantic import BaseModel, Field

BUCKET_MS = 60_000


class SeriesPoint(BaseModel):
    """The aggregate of one minute of one series so far.

    Points carry running totals, not increments: a later point for the same series and minute
    replaces the earlier one, so delivering a point twice, or a partial minute and then the
    whole minute, never double-counts.
    """

    tenant: str
    camera_id: str
    module: str
    metric: str
    place: str = Field("", description="Zone, line or slot name; '' when not place-specific")
    class_name: str = Field("", description="Object class; '' for all classes")
    bucket_ms: int = Field(description="Start of the minute, epoch milliseconds")
    count: int = Field(ge=1, description="Samples in the minute")
    sum: float
    min: float
    max: float

    @property
    def key(self) -> tuple[str, str, str, str, str, int]:
        return (self.camera_id, self.module, self.metric, self.place, self.class_name,
                self.bucket_ms)


class SeriesMessage(BaseModel):
    points: list[SeriesPoint]
