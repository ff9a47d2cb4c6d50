"""GET /api/search: filters, reasons, facets, paging, tenant scope, refusals, audit."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.conftest import BASE_MS, CONFIG, StaticEngine, api_app, build_event, trust
from tests.databases import database_url
from vigil.api.access import tenant_scope
from vigil.bus import MemoryBus
from vigil.config import parse_config
from vigil.domain.events import Event, ObjectInfo
from vigil.search.service import SearchService
from vigil.store import EventStore, LocalMediaStore


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, EventStore]]:
    """One app for the module (building one takes seconds): the API tests' config, a store."""
    where = tmp_path_factory.mktemp("search-api")
    config = parse_config(CONFIG)
    config.store.url = database_url(where, "searchapi")
    config.store.media_dir = where / "media"
    store = EventStore(config.store.url)
    store.migrate()
    store.sync_config_cameras(config.cameras)
    app = trust(
        api_app(
            config,
            StaticEngine(config.cameras),
            store,
            LocalMediaStore(config.store.media_dir),
            MemoryBus(),
        )
    )
    yield app, store
    store.close()


@pytest.fixture(scope="module")
def events(api: tuple[FastAPI, EventStore]) -> list[Event]:
    """Crossings of the gate camera's door line and visits of its lot zone, and events of
    the harbour tenant's dock camera; indexed as the runtime's indexer would."""
    store = api[1]
    made = []
    for i in range(12):
        colour = "white" if i % 3 == 0 else "red"
        event = build_event(
            start_ms=BASE_MS + i * 60_000,
            class_name="car" if i % 2 else "truck",
            direction="in" if i % 4 else "out",
        )
        assert event.object is not None
        event.object.color = colour
        made.append(event)
    for i in range(5):
        made.append(
            build_event(
                start_ms=BASE_MS + i * 1000,
                type="zone.presence",
                line=None,
                direction=None,
                zone="lot",
                class_name="person",
            )
        )
    for i in range(4):
        made.append(
            build_event(
                start_ms=BASE_MS + i * 1000,
                camera_id="harbour:dock",
                tenant="harbour",
                class_name="truck",
            )
        )
    made.append(
        build_event(
            start_ms=BASE_MS + 5000,
            type="zone.presence",
            line=None,
            direction=None,
            zone="lot",
            attributes={"text": "ACME PLUMBING"},
            class_name="truck",
        )
    )
    store.upsert_events(made)
    SearchService.for_store(store).index.index_events(made)
    return made


@pytest.fixture
def app(api: tuple[FastAPI, EventStore]) -> Iterator[FastAPI]:
    yield api[0]
    api[0].dependency_overrides.pop(tenant_scope, None)


@pytest.fixture
def store(api: tuple[FastAPI, EventStore]) -> EventStore:
    return api[1]


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


def test_search_reads_the_query_and_explains_each_result(
    client: TestClient, events: list[Event]
) -> None:
    response = client.get(
        "/api/search", params={"q": "white van crossing the door going in", "tz": "UTC"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    kinds = {f["kind"] for f in body["query"]["filters"]}
    assert kinds == {"colour", "class", "type", "place", "direction"}
    expected = [
        e
        for e in events
        if e.camera_id == "gate"
        and e.line == "door"
        and e.direction == "in"
        and e.object
        and e.object.color == "white"
    ]
    assert body["total"] == len(expected) > 0
    item = body["items"][0]
    assert item["event"]["object"]["color"] == "white"
    assert item["caption"].startswith("white ")
    assert "colour white" in item["reason"] and "similarity" in item["reason"]
    assert item["matched"]["similarity"] > 0.3
    assert {f["value"] for f in body["facets"]["color"]} == {"white"}
    assert sum(body["timeline"]["counts"]) == body["total"]
    assert body["facets"]["camera"] == [{"value": "gate", "label": "Gate", "count": len(expected)}]


def test_keywords_and_facet_filters(client: TestClient, events: list[Event]) -> None:
    body = client.get("/api/search", params={"q": "acme plumbing"}).json()
    assert body["items"][0]["matched"]["words"] == ["acme", "plumbing"]
    assert "words: acme, plumbing" in body["items"][0]["reason"]
    narrowed = client.get(
        "/api/search", params={"q": "cars and trucks", "class": "car", "color": "red"}
    ).json()
    assert narrowed["total"] > 0
    assert all(i["event"]["object"]["class_name"] == "car" for i in narrowed["items"])
    assert all(i["event"]["object"]["color"] == "red" for i in narrowed["items"])


def test_paging(client: TestClient, events: list[Event]) -> None:
    first = client.get("/api/search", params={"q": "vehicles", "limit": 5}).json()
    ids = [i["event"]["id"] for i in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(
            "/api/search", params={"q": "vehicles", "limit": 5, "cursor": cursor}
        ).json()
        ids += [i["event"]["id"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert len(ids) == len(set(ids)) == first["total"]
    wrong = client.get("/api/search", params={"q": "people", "cursor": first["next_cursor"]})
    assert wrong.status_code == 422 and wrong.json()["detail"].startswith("cursor:")


def test_tenant_scope_limits_results(app: FastAPI, client: TestClient, events: list[Event]) -> None:
    def harbour_only() -> Collection[str]:
        return {"harbour"}

    app.dependency_overrides[tenant_scope] = harbour_only
    body = client.get("/api/search", params={"q": "trucks"}).json()
    assert body["total"] == 4
    assert {i["event"]["tenant"] for i in body["items"]} == {"harbour"}
    assert [f["value"] for f in body["facets"]["camera"]] == ["harbour:dock"]
    # The gate camera's names mean nothing to this caller.
    body = client.get("/api/search", params={"q": "trucks in the lot"}).json()
    assert all(f["kind"] != "place" for f in body["query"]["filters"])
    assert all(i["event"]["tenant"] == "harbour" for i in body["items"])


@pytest.mark.parametrize(
    "q", ["find this face", "who is this person", "same person on other cameras", "search by photo"]
)
def test_person_search_is_refused_with_an_explanation(client: TestClient, q: str) -> None:
    response = client.get("/api/search", params={"q": q})
    assert response.status_code == 400
    assert "does not search for people by identity" in response.json()["detail"]


def test_bad_parameters(client: TestClient) -> None:
    assert client.get("/api/search").status_code == 422
    response = client.get("/api/search", params={"q": "cars", "tz": "Nowhere/Land"})
    assert response.status_code == 422 and response.json()["detail"].startswith("tz:")
    response = client.get("/api/search", params={"q": "cars", "start": "yesterday"})
    assert response.status_code == 422 and response.json()["detail"].startswith("start:")
    assert client.get("/api/search", params={"q": "x" * 501}).status_code == 422


def test_each_search_is_audited(
    app: FastAPI, client: TestClient, events: list[Event], caplog: pytest.LogCaptureFixture
) -> None:
    """With the app's hash-chained audit log, a record with the query, its purpose and the
    number of results; without one, a log line saying the same."""
    with caplog.at_level(logging.INFO, logger="vigil.audit.search"):
        client.get("/api/search", params={"q": "red car", "purpose": "case 42"})
    chain = getattr(app.state, "audit", None)
    if chain is not None:
        records = [
            r for r in chain.query(tenants=None, action="search.query") if r.target == "red car"
        ]
        assert records and records[0].purpose == "case 42"
        assert records[0].details["results"] > 0
        return
    lines = [r.getMessage() for r in caplog.records if r.name == "vigil.audit.search"]
    assert lines and "purpose='case 42'" in lines[0] and "query='red car'" in lines[0]


def test_new_events_appear_without_reindex(
    client: TestClient, store: EventStore, events: list[Event]
) -> None:
    bus_event = build_event(start_ms=BASE_MS + 99_000, class_name="bicycle")
    bus_event.object = ObjectInfo(class_name="bicycle", class_id=1, score=0.9, color="green")
    store.upsert_events([bus_event])
    SearchService.for_store(store).index.index_events([bus_event])
    body = client.get("/api/search", params={"q": "green bicycle"}).json()
    assert [i["event"]["id"] for i in body["items"]] == [bus_event.id]


def test_blank_query(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "   "})
    assert response.status_code == 422 and response.json()["detail"].startswith("q:")


def test_a_search_without_results_suggests_the_nearest_that_has(
    client: TestClient, events: list[Event]
) -> None:
    # No white car went out: white ones are i % 3 == 0, cars odd i, "out" i % 4 == 0.
    body = client.get("/api/search", params={"q": "white car going out", "tz": "UTC"}).json()
    assert body["total"] == 0
    suggested = {item["dropped"].split(":")[0]: item for item in body["suggestions"]}
    assert set(suggested) == {"class", "direction"}  # no car went out of any colour either
    without_direction = suggested["direction"]
    assert without_direction["q"] == "white car"
    counted = client.get("/api/search", params={"q": "white car", "tz": "UTC"}).json()
    assert without_direction["total"] == counted["total"] > 0
    totals = [item["total"] for item in body["suggestions"]]
    assert totals == sorted(totals, reverse=True)
    found = client.get("/api/search", params={"q": "white truck", "tz": "UTC"}).json()
    assert found["total"] > 0 and found["suggestions"] == []
