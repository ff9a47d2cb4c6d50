"""Event search (JSON and CSV), single events and snapshots, and hostile parameters."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from vigil.bus import MemoryBus
from vigil.config import VigilConfig
from vigil.domain.events import Event, uuid7
from vigil.store import EventStore, LocalMediaStore, media_key

from .conftest import BASE_MS, StaticEngine, api_app, trust

MakeEvent = Callable[..., Event]
T0_ISO = "2026-11-18T11:06:40Z"  # BASE_MS


@pytest.fixture
def events(store: EventStore, make_event: MakeEvent) -> list[Event]:
    stored = [
        make_event(start_ms=BASE_MS + i * 1000, camera_id="gate" if i % 2 else "dock",
                   class_name="car" if i % 3 == 0 else "person")
        for i in range(30)
    ]
    store.upsert_events(stored)
    return stored


def test_search_returns_newest_first_with_a_cursor(client: TestClient, events: list[Event]) -> None:
    response = client.get("/api/events", params={"limit": 7})
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [e.id for e in events[::-1][:7]]
    assert body["items"][0]["start_ms"] == events[-1].start_ms  # epoch ms, as in the schema
    assert Event.model_validate(body["items"][0]) == events[-1]
    seen = [item["id"] for item in body["items"]]
    while body["next_cursor"]:
        body = client.get("/api/events", params={"limit": 7, "cursor": body["next_cursor"]}).json()
        seen += [item["id"] for item in body["items"]]
    assert seen == [e.id for e in events[::-1]]


def test_filters_and_time_formats(client: TestClient, events: list[Event]) -> None:
    def ids(**params: str) -> set[str]:
        response = client.get("/api/events", params={"limit": 1000, **params})
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    first_ten = {e.id for e in events[:10]}
    assert ids(start=T0_ISO, end="2026-11-18T11:06:50Z") == first_ten
    assert ids(start="2026-11-18T12:06:40+01:00", end="2026-11-18T12:06:50+01:00") == first_ten
    assert ids(start="2026-11-18T11:06:40", end="2026-11-18T11:06:50.000") == first_ten  # UTC
    assert ids(camera="gate") == {e.id for e in events if e.camera_id == "gate"}
    assert ids(camera="gate,dock") == {e.id for e in events}
    assert ids(**{"class": "car", "camera": "gate"}) == {
        e.id for e in events if e.camera_id == "gate" and e.object.class_name == "car"
    }
    assert ids(type="line.crossing", module="line", line="door", state="ended") == ids()
    assert ids(zone="lot") == set()
    assert ids(camera="nowhere") == set()


def test_unencoded_plus_offset_is_understood(client: TestClient, events: list[Event]) -> None:
    # "+" in a raw query string decodes to a space; the offset must still count.
    raw = "start=2026-11-18T12:06:40+01:00&end=2026-11-18T12:06:42+01:00"
    response = client.get(f"/api/events?{raw}")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [events[1].id, events[0].id]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("start=yesterday", "start"),
        ("end=2026-13-40", "end"),
        ("start=2026-11-19&end=2026-11-18", "start"),
        ("limit=1000000000", "limit"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage", "cursor"),
        ("cursor=" + "A" * 200, "cursor"),
        ("state=exploded", "state"),
        ("format=xml", "format"),
        ("camera=" + "x" * 200, "camera"),
        ("camera=" + ",".join(["a"] * 101), "camera"),
        ("module=" + "m" * 100, "module"),
    ],
)
def test_bad_search_parameters_are_a_422_naming_them(
    client: TestClient, query: str, named: str
) -> None:
    response = client.get(f"/api/events?{query}")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail.startswith(named), detail


def test_csv_export_streams_every_match(
    client: TestClient, store: EventStore, events: list[Event], make_event: MakeEvent
) -> None:
    # More than one internal page (1000 rows).
    store.upsert_events([make_event(start_ms=BASE_MS - 10_000 - i) for i in range(1500)])
    response = client.get("/api/events", params={"format": "csv", "limit": 5})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 30 + 1500
    newest = rows[0]
    assert newest["id"] == events[-1].id
    assert newest["start"] == "2026-11-18T11:07:09.000Z" and newest["end"] == newest["start"]
    assert newest["class_name"] == events[-1].object.class_name
    assert (newest["x1"], newest["y2"]) == ("1.0", "40.0")
    assert len({row["id"] for row in rows}) == len(rows)
    filtered = client.get("/api/events", params={"format": "csv", "camera": "dock"})
    assert len(list(csv.DictReader(io.StringIO(filtered.text)))) == 15


def test_csv_defuses_formula_cells(
    client: TestClient, store: EventStore, make_event: MakeEvent
) -> None:
    store.upsert_events([make_event(zone="=cmd|' /C calc'!A0", line=None, type="zone.presence")])
    rows = list(csv.DictReader(io.StringIO(client.get("/api/events?format=csv").text)))
    assert rows[0]["zone"] == "'=cmd|' /C calc'!A0"


def test_get_event(client: TestClient, events: list[Event]) -> None:
    response = client.get(f"/api/events/{events[3].id}")
    assert response.status_code == 200 and Event.model_validate(response.json()) == events[3]
    missing = client.get(f"/api/events/{uuid7()}")
    assert missing.status_code == 404 and "no event" in missing.json()["detail"]
    for bad in ("not-an-id", "..%2F..%2Fetc", "01234567-89AB-CDEF-0123-456789ABCDEF"):
        response = client.get(f"/api/events/{bad}")
        assert response.status_code in (404, 422), bad
        assert isinstance(response.json()["detail"], str)


def test_snapshot_comes_from_the_media_store(
    client: TestClient, store: EventStore, media: LocalMediaStore, make_event: MakeEvent
) -> None:
    event = make_event()
    key = media_key(event.tenant, event.camera_id, event.start_ms, event.id)
    media.put(key, b"\xff\xd8\xff\xe0blurred", "image/jpeg")
    with_snapshot = event.model_copy(update={"snapshot": key})
    no_snapshot = make_event(start_ms=BASE_MS + 1)
    gone = make_event(start_ms=BASE_MS + 2, snapshot="default/gate/2026-11-18/gone.jpg")
    hostile = make_event(start_ms=BASE_MS + 3, snapshot="../../../etc/passwd")
    store.upsert_events([with_snapshot, no_snapshot, gone, hostile])

    response = client.get(f"/api/events/{event.id}/snapshot.jpg")
    assert response.status_code == 200 and response.content == b"\xff\xd8\xff\xe0blurred"
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "no-store"
    for other, reason in ((no_snapshot, "has no snapshot"), (gone, "no longer stored"),
                          (hostile, "no longer stored")):
        response = client.get(f"/api/events/{other.id}/snapshot.jpg")
        assert response.status_code == 404 and reason in response.json()["detail"]
    assert client.get(f"/api/events/{uuid7()}/snapshot.jpg").status_code == 404


def test_tenant_scope_applies_to_events(
    app: object, client: TestClient, store: EventStore, make_event: MakeEvent
) -> None:
    from vigil.api.access import tenant_scope

    mine = make_event(tenant="harbour", camera_id="harbour:dock")
    theirs = make_event(start_ms=BASE_MS + 1)
    store.upsert_events([mine, theirs])
    app.dependency_overrides[tenant_scope] = lambda: ["harbour"]  # type: ignore[attr-defined]
    assert [i["id"] for i in client.get("/api/events").json()["items"]] == [mine.id]
    assert client.get(f"/api/events/{theirs.id}").status_code == 404
    assert client.get(f"/api/events/{quote(theirs.id)}/snapshot.jpg").status_code == 404
    csv_rows = list(csv.DictReader(io.StringIO(client.get("/api/events?format=csv").text)))
    assert [row["id"] for row in csv_rows] == [mine.id]


def test_an_unreachable_media_store_answers_503_not_500(
    config: VigilConfig, engine: StaticEngine, store: EventStore, bus: MemoryBus,
    make_event: MakeEvent, tmp_path: Path,
) -> None:
    from vigil.store.media import MediaError

    class Unreachable(LocalMediaStore):
        """An object store that went away after start (stopping one mid-test costs seconds)."""

        def get(self, key: str) -> bytes | None:
            raise MediaError("S3 media store http://127.0.0.1:9, bucket 'm': connection refused")

    down = Unreachable(tmp_path / "media")
    client = TestClient(trust(api_app(config, engine, store, down, bus)))
    event = make_event()
    key = media_key(event.tenant, event.camera_id, event.start_ms, event.id)
    store.upsert_events([event.model_copy(update={"snapshot": key})])
    response = client.get(f"/api/events/{event.id}/snapshot.jpg")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert "media store is unavailable" in response.json()["detail"]
    assert "127.0.0.1" not in response.json()["detail"]  # internal endpoints stay in the log
