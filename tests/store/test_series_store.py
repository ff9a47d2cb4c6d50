"""Statistics series in the store: replacement by running totals, re-bucketed reads."""

from __future__ import annotations

from vigil.domain.series_points import BUCKET_MS, SeriesPoint
from vigil.store import EventStore, SeriesQuery

T0 = 1_790_000_000_000 - 1_790_000_000_000 % (3600 * 1000)  # the start of an hour


def point(minute: int, count: int, total: float, low: float, high: float, **kw: str) -> SeriesPoint:
    fields = {"tenant": "city", "camera_id": "cam", "module": "zone", "metric": "occupancy",
              "place": "plaza", "class_name": "", **kw}
    return SeriesPoint(bucket_ms=T0 + minute * BUCKET_MS, count=count, sum=total, min=low,
                       max=high, **fields)


def test_running_totals_replace_and_late_partials_do_not(store: EventStore) -> None:
    store.upsert_series([point(0, 2, 4.0, 1.0, 3.0)])
    store.upsert_series([point(0, 5, 10.0, 0.0, 4.0)])  # the same minute, further along
    store.upsert_series([point(0, 3, 6.0, 1.0, 3.0)])  # a late partial: must not win
    (row,) = store.query_series(SeriesQuery(start_ms=T0, end_ms=T0 + 3600_000))
    assert (row.samples, row.mean, row.min, row.max) == (5, 2.0, 0.0, 4.0)


def test_minutes_are_rebucketed_and_filtered(store: EventStore) -> None:
    store.upsert_series([
        point(0, 1, 2.0, 2.0, 2.0), point(1, 1, 4.0, 4.0, 4.0), point(5, 1, 9.0, 9.0, 9.0),
        point(0, 1, 7.0, 7.0, 7.0, place="gate"),
        point(0, 1, 1.0, 1.0, 1.0, camera_id="other", tenant="port"),
    ])
    rows = store.query_series(SeriesQuery(start_ms=T0, end_ms=T0 + 3600_000, interval_s=300,
                                          places=["plaza"], tenants=["city"]))
    assert [(r.bucket_start_ms - T0, r.samples, r.mean, r.max) for r in rows] == [
        (0, 2, 3.0, 4.0), (300_000, 1, 9.0, 9.0)]
    everything = store.query_series(SeriesQuery(start_ms=T0, end_ms=T0 + 3600_000))
    assert {r.camera_id for r in everything} == {"cam", "other"}
