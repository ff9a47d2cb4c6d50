"""Aggregates a camera's module samples per minute, and says when to publish them."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.domain.series_points import BUCKET_MS, SeriesPoint
from vigil.modules.base import Sample

# Open minutes are republished this often, so dashboards see the current minute fill up.
PUBLISH_EVERY_MS = 10_000

SeriesKey = tuple[str, str, str, str]  # module, metric, place, class


@dataclass(slots=True)
class _Bucket:
    start_ms: int
    count: int = 0
    sum: float = 0.0
    min: float = float("inf")
    max: float = float("-inf")

    def add(self, value: float) -> None:
        self.count += 1
        self.sum += value
        self.min = min(self.min, value)
        self.max = max(self.max, value)


class SeriesAggregator:
    def __init__(self, tenant: str, camera_id: str) -> None:
        self.tenant = tenant
        self.camera_id = camera_id
        self._open: dict[SeriesKey, _Bucket] = {}
        self._last_publish_ms: int | None = None

    def add(self, module: str, samples: list[Sample], ts_ms: int) -> list[SeriesPoint]:
        """Record samples; returns points to publish now (closed minutes, periodic refresh)."""
        start = ts_ms - ts_ms % BUCKET_MS
        ready: list[SeriesPoint] = []
        for sample in samples:
            key = (module, sample.metric, sample.place or "", sample.class_name or "")
            bucket = self._open.get(key)
            if bucket is not None and bucket.start_ms != start:
                ready.append(self._point(key, bucket))  # the minute is over: final value
                bucket = None
            if bucket is None:
                bucket = self._open[key] = _Bucket(start)
            bucket.add(float(sample.value))
        if self._last_publish_ms is None:
            self._last_publish_ms = ts_ms
        if ts_ms - self._last_publish_ms >= PUBLISH_EVERY_MS:
            self._last_publish_ms = ts_ms
            ready.extend(self._refresh(start))
        return ready

    def flush(self) -> list[SeriesPoint]:
        """Final points of every open minute (the camera stops)."""
        points = [self._point(key, bucket) for key, bucket in self._open.items()]
        self._open.clear()
        return points

    def _refresh(self, current_start: int) -> list[SeriesPoint]:
        """Every open minute as it stands; minutes already over are closed for good."""
        points = []
        for key, bucket in list(self._open.items()):
            points.append(self._point(key, bucket))
            if bucket.start_ms < current_start:
                del self._open[key]
        return points

    def _point(self, key: SeriesKey, bucket: _Bucket) -> SeriesPoint:
        module, metric, place, class_name = key
        return SeriesPoint(
            tenant=self.tenant, camera_id=self.camera_id, module=module, metric=metric,
            place=place, class_name=class_name, bucket_ms=bucket.start_ms, count=bucket.count,
            sum=bucket.sum, min=bucket.min, max=bucket.max,
        )
