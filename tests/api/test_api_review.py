"""Review items over a real store: events grouped per track and per burst, severity from the
event types and fired alerts, newest first, and reviewed marks shared by the tenant."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from vigil.api.access import tenant_scope
from vigil.domain.events import Event
from vigil.domain.frames import now_ms
from vigil.store import EventStore
from vigil.store.alerts import StoredAlert, insert_alert

MINUTE = 60_000


def on_track(event: Event, track_id: int | None) -> Event:
    assert event.object is not None
    if track_id is None:
        return event.model_copy(update={"object": None})
    return event.model_copy(
        update={"object": event.object.model_copy(update={"track_id": track_id})}
    )


def test_events_are_grouped_per_incident_with_severity_newest_first(
    client: TestClient, store: EventStore, make_event: Callable[..., Event]
) -> None:
    t = now_ms() - 60 * MINUTE
    walk = [
        on_track(
            make_event(start_ms=t, type="zone.presence", line=None, direction=None, zone="lot"), 4
        ),
        on_track(
            make_event(
                start_ms=t + 10_000, type="loitering.dwell", line=None, direction=None, zone="lot"
            ),
            4,
        ),
        on_track(make_event(start_ms=t + 20_000), 4),  # its crossing of the door
    ]
    other = on_track(
        make_event(start_ms=t + 5000, type="zone.presence", line=None, direction=None, zone="lot"),
        5,
    )
    later = on_track(
        make_event(
            start_ms=t + 10 * MINUTE, type="zone.presence", line=None, direction=None, zone="lot"
        ),
        4,
    )  # the track came back later
    covered = [
        on_track(
            make_event(
                start_ms=t + 2 * MINUTE + s * 1000, type="tamper.covered", line=None, direction=None
            ),
            None,
        )
        for s in (0, 15)
    ]
    store.upsert_events([*walk, other, later, *covered])
    insert_alert(
        store.engine,
        StoredAlert(
            id=other.id,
            tenant="default",
            rule_id="r",
            rule_name="R",
            event_id=other.id,
            camera_id="gate",
            event_type=other.type,
            fired_ms=t,
            match_count=None,
            status="recorded",
        ),
        dedup_key="r/other",
    )

    page = client.get("/api/review").json()
    summary = [(item["id"], item["severity"], item["count"]) for item in page["items"]]
    assert summary == [
        (later.id, "info", 1),
        (covered[0].id, "detection", 2),
        (walk[0].id, "detection", 3),
        (other.id, "alert", 1),
    ]
    incident = page["items"][2]
    assert set(incident["types"]) == {"zone.presence", "loitering.dwell", "line.crossing"}
    assert incident["places"] == ["lot", "door"] and incident["track_id"] == 4
    assert incident["cover"]["type"] != "zone.presence"  # the item's most telling event
    assert (page["total"], page["unreviewed"]) == (4, 4)
    alerts_only = client.get("/api/review?severity=alert").json()["items"]
    assert [item["id"] for item in alerts_only] == [other.id]


def test_a_reviewed_item_is_reviewed_for_the_whole_tenant(
    client: TestClient, store: EventStore, make_event: Callable[..., Event]
) -> None:
    t = now_ms() - 10 * MINUTE
    first, second = make_event(start_ms=t), on_track(make_event(start_ms=t + 1000), 9)
    store.upsert_events([first, second])
    marked = client.put(f"/api/review/{first.id}", json={"reviewed": True})
    assert marked.status_code == 200 and marked.json()["by"] == "tests"
    waiting = client.get("/api/review?reviewed=false").json()
    assert [item["id"] for item in waiting["items"]] == [second.id]
    done = client.get("/api/review?reviewed=true").json()["items"]
    assert done[0]["reviewed"]["by"] == "tests"
    assert client.put(f"/api/review/{first.id}", json={"reviewed": False}).json() is None
    assert client.get("/api/review").json()["unreviewed"] == 2

    assert client.put(f"/api/review/{uuid_like()}", json={}).status_code == 404
    client.app.dependency_overrides[tenant_scope] = lambda: ["harbour"]  # type: ignore[attr-defined]
    assert client.get("/api/review").json()["items"] == []
    assert client.put(f"/api/review/{first.id}", json={}).status_code == 404
    bad = client.get("/api/review?severity=urgent")
    assert bad.status_code == 422 and "severity" in bad.text


def uuid_like() -> str:
    return "0190c0de-0000-7000-8000-000000000000"


def test_event_count_counts_every_page_of_the_filters(
    client: TestClient, store: EventStore, make_event: Callable[..., Event]
) -> None:
    t = now_ms() - 10 * MINUTE
    store.upsert_events(
        [make_event(start_ms=t + i * 1000, direction="in" if i % 2 else "out") for i in range(7)]
    )
    assert client.get("/api/event-count").json() == {"total": 7}
    assert client.get("/api/event-count?camera=gate&limit=2").json() == {"total": 7}
    assert client.get("/api/event-count?camera=dock").json() == {"total": 0}
    bad = client.get("/api/event-count?start=soon")
    assert bad.status_code == 422 and "start" in bad.text


def test_a_busy_period_is_grouped_whole_not_cut_to_the_newest_events(
    client: TestClient, store: EventStore, make_event: Callable[..., Event]
) -> None:
    t = now_ms() - 5 * 60 * MINUTE
    earlier = on_track(make_event(start_ms=t), 7)
    # One long incident of 6000 events, a second apart (more than were ever read at once).
    busy = [on_track(make_event(start_ms=t + 30 * MINUTE + i * 1000), 8) for i in range(6000)]
    store.upsert_events([earlier, *busy])
    page = client.get("/api/review", params={"limit": 10}).json()
    assert page["total"] == 2 and page["unreviewed"] == 2
    newest, oldest = page["items"]
    assert newest["id"] == busy[0].id and newest["count"] == 6000
    assert oldest["id"] == earlier.id and oldest["count"] == 1
    only_one = client.get("/api/review", params={"limit": 1}).json()
    assert only_one["total"] == 2 and [i["id"] for i in only_one["items"]] == [busy[0].id]
