"""Counts per time bucket through the API."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from vigil.api.params import iso
from vigil.domain.events import Event, EventState
from vigil.domain.frames import now_ms
from vigil.domain.series_points import SeriesPoint
from vigil.store import EventStore

MakeEvent = Callable[..., Event]
T0 = 1_795_000_020_000  # 2026-11-18T11:07:00Z, a whole minute


def test_counts_per_bucket(client: TestClient, store: EventStore, make_event: MakeEvent) -> None:
    store.upsert_events([
        make_event(start_ms=T0 + 1),
        make_event(start_ms=T0 + 2, direction="out"),
        make_event(start_ms=T0 + 3),
        make_event(start_ms=T0 + 61_000),
        make_event(start_ms=T0 + 5, type="zone.presence", line=None, direction=None, zone="lot",
                   state=EventState.ACTIVE),
        make_event(start_ms=T0 + 6, camera_id="dock", class_name="car"),
    ])
    response = client.get("/api/counts", params={
        "start": "2026-11-18T11:07:00Z", "end": "2026-11-18T11:09:00Z", "interval": 60,
        "camera": "gate",
    })
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["interval_s"] == 60
    assert body["start"] == "2026-11-18T11:07:00.000Z" and body["end"] == "2026-11-18T11:09:00.000Z"
    assert body["rows"] == [
        {"bucket_start": "2026-11-18T11:07:00.000Z", "camera_id": "gate", "line": None,
         "zone": "lot", "class_name": "person", "direction": None, "count": 1},
        {"bucket_start": "2026-11-18T11:07:00.000Z", "camera_id": "gate", "line": "door",
         "zone": None, "class_name": "person", "direction": "in", "count": 2},
        {"bucket_start": "2026-11-18T11:07:00.000Z", "camera_id": "gate", "line": "door",
         "zone": None, "class_name": "person", "direction": "out", "count": 1},
        {"bucket_start": "2026-11-18T11:08:00.000Z", "camera_id": "gate", "line": "door",
         "zone": None, "class_name": "person", "direction": "in", "count": 1},
    ]
    lines_only = client.get("/api/counts", params={
        "start": "2026-11-18T11:00:00Z", "end": "2026-11-18T12:00:00Z", "interval": 3600,
        "line": "door", "class": "person",
    }).json()["rows"]
    assert [(r["camera_id"], r["direction"], r["count"]) for r in lines_only] == [
        ("gate", "in", 3), ("gate", "out", 1),
    ]


def test_default_range_is_the_last_day(
    client: TestClient, store: EventStore, make_event: MakeEvent
) -> None:
    now = now_ms()
    store.upsert_events([make_event(start_ms=now - 3_600_000), make_event(start_ms=now - 10**8)])
    body = client.get("/api/counts", params={"interval": 86400}).json()
    assert sum(row["count"] for row in body["rows"]) == 1


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"interval": 0}, "interval"),
        ({"interval": "minute"}, "interval"),
        ({"interval": 10**12}, "interval"),
        ({"interval": 1, "start": "2020-01-01", "end": "2026-01-01"}, "interval"),
        ({"start": "noon"}, "start"),
        ({"end": "2026-02-30T00:00:00Z"}, "end"),
        ({"start": "2026-11-19", "end": "2026-11-18"}, "start"),
        ({"line": ["l"] * 101}, "line"),
    ],
)
def test_bad_count_parameters(client: TestClient, params: dict[str, object], named: str) -> None:
    response = client.get("/api/counts", params=params)  # type: ignore[arg-type]
    assert response.status_code == 422
    assert response.json()["detail"].startswith(named), response.json()


def test_counts_as_csv(client: TestClient, store: EventStore, make_event: MakeEvent) -> None:
    store.upsert_events([make_event(start_ms=T0 + 1), make_event(start_ms=T0 + 2)])
    response = client.get("/api/counts", params={
        "start": "2026-11-18T11:07:00Z", "end": "2026-11-18T11:09:00Z", "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows == [{"bucket_start": "2026-11-18T11:07:00.000Z", "camera_id": "gate",
                     "line": "door", "zone": "", "class_name": "person", "direction": "in",
                     "count": "2"}]


def test_series_rebucketed_as_json_and_csv(client: TestClient, store: EventStore) -> None:
    minute = T0 - T0 % 60_000
    store.upsert_series([
        SeriesPoint(tenant="default", camera_id="gate", module="zone", metric="occupancy",
                    place="lot", bucket_ms=minute + i * 60_000, count=2, sum=2.0 * (i + 1),
                    min=float(i), max=float(i + 2))
        for i in range(3)
    ])
    params = {"start": iso(minute), "end": iso(minute + 300_000), "interval": 300,
              "metric": "occupancy"}
    body = client.get("/api/series", params=params).json()
    assert body["interval_s"] == 300
    (row,) = body["rows"]
    assert (row["camera_id"], row["place"], row["samples"]) == ("gate", "lot", 6)
    assert (row["mean"], row["min"], row["max"]) == (2.0, 0.0, 4.0)  # (2+4+6)/6, 0, 2+2
    text = client.get("/api/series", params={**params, "format": "csv"}).text
    (csv_row,) = csv.DictReader(io.StringIO(text))
    assert csv_row["metric"] == "occupancy" and csv_row["mean"] == "2.0"


def test_series_rejects_intervals_that_are_not_whole_minutes(client: TestClient) -> None:
    response = client.get("/api/series", params={"interval": 90})
    assert response.status_code == 422 and "interval" in response.json()["detail"]
