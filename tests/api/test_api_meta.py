"""Health, metrics, schemas, OpenAPI, security headers, body limits and error format."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from vigil.bus import MemoryBus
from vigil.config import VigilConfig
from vigil.domain.events import EventMessage, Phase, event_json_schema
from vigil.store import EventSink, EventStore, LocalMediaStore

from .conftest import api_app, trust

ROUTES = {
    ("/healthz", "get"),
    ("/metrics", "get"),
    ("/api/cameras", "get"),
    ("/api/cameras", "post"),
    ("/api/cameras/{camera_id}", "get"),
    ("/api/cameras/{camera_id}", "put"),
    ("/api/cameras/{camera_id}", "delete"),
    ("/api/cameras/{camera_id}/live.jpg", "get"),
    ("/api/cameras/{camera_id}/live.mjpeg", "get"),
    ("/api/cameras/{camera_id}/stats", "get"),
    ("/api/cameras/{camera_id}/heatmap", "get"),
    ("/api/cameras/{camera_id}/heatmap.png", "get"),
    ("/api/events", "get"),
    ("/api/events/stream", "get"),
    ("/api/events/{event_id}", "get"),
    ("/api/events/{event_id}/snapshot.jpg", "get"),
    ("/api/counts", "get"),
    ("/api/series", "get"),
    ("/api/search", "get"),
    ("/api/schema/event", "get"),
    ("/api/modules", "get"),
    ("/api/alert-actions", "get"),
    ("/api/alert-rules", "get"),
    ("/api/alert-rules", "post"),
    ("/api/alert-rules/{rule_id}", "get"),
    ("/api/alert-rules/{rule_id}", "put"),
    ("/api/alert-rules/{rule_id}", "delete"),
    ("/api/alert-rules/{rule_id}/test", "post"),
    ("/api/alert-rules/preview", "post"),
    ("/api/alerts/firing", "get"),
    ("/api/alerts/{alert_id}/acknowledge", "post"),
    ("/api/camera-health", "get"),
    ("/api/review", "get"),
    ("/api/event-count", "get"),
    ("/api/review/{item_id}", "put"),
    ("/api/alerts", "get"),
    ("/api/alerts/{alert_id}", "get"),
    ("/api/alert-cameras", "get"),
    ("/api/alert-cameras/{camera_id}", "put"),
    ("/api/alert-actions/{name}", "post"),
    ("/api/alert-actions/{name}", "put"),
}
# Identity, audit, retention and privacy settings (vigil.api.routes_{auth,users,audit,retention}).
ROUTES |= {
    ("/api/auth/status", "get"),
    ("/api/auth/login", "post"),
    ("/api/auth/setup", "post"),
    ("/api/auth/link", "get"),
    ("/api/auth/logout", "post"),
    ("/api/auth/me", "get"),
    ("/api/auth/purpose", "put"),
    ("/api/auth/password", "post"),
    ("/api/auth/tokens", "get"),
    ("/api/auth/tokens", "post"),
    ("/api/auth/tokens/{token_id}", "delete"),
    ("/api/users", "get"),
    ("/api/users", "post"),
    ("/api/users/{user_id}", "get"),
    ("/api/users/{user_id}", "patch"),
    ("/api/users/{user_id}", "delete"),
    ("/api/users/{user_id}/password", "post"),
    ("/api/users/{user_id}/unlock", "post"),
    ("/api/users/{user_id}/tokens", "get"),
    ("/api/users/{user_id}/tokens", "post"),
    ("/api/users/{user_id}/tokens/{token_id}", "delete"),
    ("/api/groups", "get"),
    ("/api/groups/{name}", "put"),
    ("/api/groups/{name}", "delete"),
    ("/api/tenants", "get"),
    ("/api/tenants", "post"),
    ("/api/audit", "get"),
    ("/api/audit/verify", "get"),
    ("/api/retention", "get"),
    ("/api/retention", "put"),
    ("/api/retention/run", "post"),
    ("/api/settings/privacy", "get"),
    ("/api/settings/privacy", "put"),
    ("/api/cases", "get"),
    ("/api/cases", "post"),
    ("/api/cases/{case_id}", "get"),
    ("/api/cases/{case_id}/events", "post"),
    ("/api/cases/{case_id}/release", "post"),
}


def test_healthz_counts_cameras_and_online(client: TestClient, engine: object) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "cameras": 2, "online": 0}
    engine.set_frame("gate", 1)  # type: ignore[attr-defined]
    assert client.get("/healthz").json() == {"status": "ok", "cameras": 2, "online": 1}


# Site setup (vigil.api.routes_{setup,camera_bulk,site,onvif}).
ROUTES |= {
    ("/api/cameras/probe", "post"),
    ("/api/cameras/validate", "post"),
    ("/api/cameras/export.yaml", "get"),
    ("/api/cameras/export.csv", "get"),
    ("/api/cameras/import", "post"),
    ("/api/cameras/{camera_id}/apply-to", "post"),
    ("/api/cameras/{camera_id}/ptz", "get"),
    ("/api/cameras/{camera_id}/ptz/goto", "post"),
    ("/api/cameras/{camera_id}/ptz/move", "post"),
    ("/api/site", "get"),
    ("/api/site/plan", "get"),
    ("/api/site/plan", "put"),
    ("/api/site/plan", "delete"),
    ("/api/site/settings", "put"),
    ("/api/site/tiles/{z}/{x}/{y}", "get"),
    ("/api/site/cameras/{camera_id}", "put"),
    ("/api/site/cameras/{camera_id}", "delete"),
    ("/api/onvif/discover", "post"),
    ("/api/onvif/device", "post"),
    ("/api/onvif/ptz/presets", "post"),
    ("/api/onvif/ptz/goto", "post"),
    ("/api/onvif/ptz/save", "post"),
}

# Recordings (vigil.api.routes_recordings).
ROUTES |= {
    ("/api/recordings/{camera_id}/timeline", "get"),
    ("/api/recordings/{camera_id}/frame.jpg", "get"),
    ("/api/recordings/{camera_id}/play.mjpeg", "get"),
    ("/api/recordings/{camera_id}/clip.mp4", "get"),
    ("/api/events/{event_id}/clip", "get"),
    ("/api/recordings/{camera_id}/export", "post"),
    ("/api/recordings/exports/{sha256}", "get"),
    ("/api/recordings/usage", "get"),
}


def test_openapi_lists_every_route_with_summary_and_tag(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    found = {(path, method) for path, item in document["paths"].items() for method in item}
    assert found == ROUTES
    for path, method in ROUTES:
        operation = document["paths"][path][method]
        assert operation["summary"] and operation["tags"], (path, method)
    assert "CameraConfig" in document["components"]["schemas"]
    assert "Event" in document["components"]["schemas"]


def test_schema_and_modules(client: TestClient) -> None:
    assert client.get("/api/schema/event").json() == event_json_schema()
    modules = {item["name"]: item for item in client.get("/api/modules").json()}
    assert {"line", "zone", "loitering"} <= set(modules)
    assert "properties" in modules["line"]["settings_schema"]


def test_metrics_from_engine_and_sink(
    config: VigilConfig,
    engine: object,
    store: EventStore,
    media: LocalMediaStore,
    bus: MemoryBus,
    make_event: object,
) -> None:
    sink = EventSink(store, bus)
    app = trust(api_app(config, engine, store, media, bus, sink=sink))  # type: ignore[arg-type]
    sink.start()
    bus.publish(EventMessage(phase=Phase.END, event=make_event()))  # type: ignore[operator]
    sink.stop()
    engine.set_frame("gate", 1)  # type: ignore[attr-defined]
    response = TestClient(app).get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {
        (sample.name, sample.labels.get("camera")): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    assert samples[("vigil_cameras", None)] == 2
    assert samples[("vigil_camera_online", "gate")] == 1
    assert samples[("vigil_camera_online", "harbour:dock")] == 0
    assert samples[("vigil_camera_input_fps", "gate")] == 25.0
    assert samples[("vigil_camera_analysed_fps", "gate")] == 5.0
    assert samples[("vigil_camera_lag_seconds", "gate")] == 0.12
    assert samples[("vigil_camera_dropped_frames_total", "gate")] == 3
    assert samples[("vigil_camera_queue_depth", "gate")] == 2.0
    assert samples[("vigil_sink_events_written_total", None)] == 1
    assert samples[("vigil_sink_batches_total", None)] == 1
    assert samples[("vigil_sink_errors_total", None)] == 0
    assert not any("Bad" in name for name, _ in samples)


def test_security_headers_everywhere(client: TestClient) -> None:
    for path in ("/healthz", "/api/cameras", "/api/nowhere"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "img-src 'self' data:" in headers["content-security-policy"]
    assert "cdn.jsdelivr.net" in client.get("/docs").headers["content-security-policy"]


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    response = client.get("/api/nowhere")
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


def test_bodies_over_one_mib_are_refused(client: TestClient) -> None:
    big = b'{"id": "x", "url": "' + b"a" * (1024 * 1024) + b'"}'
    json_type = {"content-type": "application/json"}
    response = client.post("/api/cameras", content=big, headers=json_type)
    assert response.status_code == 413 and "larger than" in response.json()["detail"]

    def chunks():  # no Content-Length: counted while it arrives
        yield b'{"id": "x", "url": "'
        for _ in range(20):
            yield b"a" * 65536
        yield b'"}'

    response = client.post("/api/cameras", content=chunks(), headers=json_type)
    assert response.status_code == 413 and "larger than" in response.json()["detail"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_unexpected_error_is_a_json_500(app: FastAPI, engine: object) -> None:
    def broken() -> list[object]:
        raise RuntimeError("engine exploded")

    engine.statuses = broken  # type: ignore[attr-defined]
    response = TestClient(app, raise_server_exceptions=False).get("/healthz")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; see the server log"}
