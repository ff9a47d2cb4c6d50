"""Per-minute aggregation of module samples, as published for the statistics series."""

from __future__ import annotations

from vigil.domain.series_points import BUCKET_MS
from vigil.modules.base import Sample
from vigil.pipeline.series_aggregator import PUBLISH_EVERY_MS, SeriesAggregator

T0 = 1_790_000_040_000 - 1_790_000_040_000 % BUCKET_MS  # the start of a minute


def occupancy(value: float, zone: str = "plaza") -> list[Sample]:
    return [Sample("occupancy", value, zone)]


def test_minute_closes_with_count_sum_min_max() -> None:
    series = SeriesAggregator("city", "cam")
    published = []
    for second, value in ((0, 2), (20, 5), (40, 3)):
        published += series.add("zone", occupancy(value), T0 + second * 1000)
    published += series.add("zone", occupancy(7), T0 + BUCKET_MS)  # next minute begins
    final = [p for p in published if p.bucket_ms == T0][-1]
    assert (final.count, final.sum, final.min, final.max) == (3, 10.0, 2.0, 5.0)
    assert (final.tenant, final.camera_id, final.module, final.place) == ("city", "cam", "zone",
                                                                          "plaza")
    (rest,) = series.flush()
    assert rest.bucket_ms == T0 + BUCKET_MS and rest.count == 1


def test_open_minute_is_republished_as_running_totals() -> None:
    series = SeriesAggregator("city", "cam")
    assert series.add("zone", occupancy(1), T0) == []
    refreshed = series.add("zone", occupancy(4), T0 + PUBLISH_EVERY_MS)
    assert [(p.bucket_ms, p.count, p.sum) for p in refreshed] == [(T0, 2, 5.0)]


def test_series_are_kept_apart_by_place_and_class() -> None:
    series = SeriesAggregator("city", "cam")
    series.add("zone", [Sample("occupancy", 1, "a"), Sample("occupancy", 2, "b"),
                        Sample("occupancy", 3, "a", "car")], T0)
    points = {(p.place, p.class_name): p.sum for p in series.flush()}
    assert points == {("a", ""): 1.0, ("b", ""): 2.0, ("a", "car"): 3.0}
