"""No existence oracles: what a guesser gets back does not tell which names or ids exist."""

from __future__ import annotations

from tests.security.conftest import PASSWORD, World


def test_a_locked_account_answers_exactly_as_an_unknown_user(world: World) -> None:
    client = world.client()
    for _ in range(world.config.security.lockout_failures):
        client.post("/api/auth/login", json={"username": "alpha:viewer", "password": "wrong!"})
    locked = client.post("/api/auth/login", json={"username": "alpha:viewer", "password": PASSWORD})
    unknown = client.post("/api/auth/login", json={"username": "nobody-at-all", "password": "x"})
    assert (locked.status_code, locked.json()) == (unknown.status_code, unknown.json())
    assert set(locked.headers) - {"date"} == set(unknown.headers) - {"date"}
    # The lockout itself still holds: the right password does not get in.
    assert locked.status_code == 401


def test_another_tenants_camera_answers_as_an_unknown_one(world: World) -> None:
    bravo = world.client("bravo:admin")
    for method, path in (
        ("get", "/api/cameras/{}"),
        ("delete", "/api/cameras/{}"),
        ("get", "/api/cameras/{}/live.jpg"),
    ):
        theirs = bravo.request(method.upper(), path.format("alpha:gate"))
        unknown = bravo.request(method.upper(), path.format("no-such-camera"))
        assert theirs.status_code == unknown.status_code == 404, path
        assert theirs.json()["detail"].replace("alpha:gate", "X") == unknown.json()[
            "detail"
        ].replace("no-such-camera", "X")


def test_tenant_admins_see_only_their_own_figures_on_metrics(world: World) -> None:
    """Process-wide counters (events published, snapshots, retention deletions, the sink's
    last error) add up every tenant's activity; a tenant admin gets their cameras only."""
    world.app.state.retention.run_once()
    tenant_view = world.client("alpha:admin").get("/metrics").text
    system_view = world.client("root").get("/metrics").text
    assert "vigil_retention_runs_total" in system_view
    for shared in ("vigil_retention", "vigil_inference", "vigil_events_published"):
        assert shared not in tenant_view, shared
    assert 'camera="alpha:gate"' in tenant_view and "bravo" not in tenant_view


def test_no_route_that_names_a_camera_tells_another_tenants_camera_from_an_unknown_one(
    world: World,
) -> None:
    """Walks every operation of the OpenAPI document whose path or body names a camera (get,
    put, delete, live, stats, recordings, snapshots, apply-to …) as tenant bravo's admin:
    alpha's camera answers exactly as a camera that does not exist."""
    bravo = world.client("bravo:admin")
    document = world.client("root").get("/openapi.json").json()
    body = {"id": "{}", "name": "x", "tenant": "bravo", "url": "rtsp://10.0.0.9/s"}
    walked = 0
    for path, item in document["paths"].items():
        if "{camera_id}" not in path:
            continue
        for method, operation in item.items():
            content = operation["responses"].get("200", {}).get("content", {})
            if any(kind.startswith(("text/event-stream", "multipart/")) for kind in content):
                continue
            answers = []
            for camera in ("alpha:gate", "no-such-camera"):
                kwargs: dict[str, object] = {}
                if "requestBody" in operation:
                    kwargs["json"] = {k: v.format(camera) for k, v in body.items()}
                response = bravo.request(method.upper(), path.format(camera_id=camera), **kwargs)
                answers.append((response.status_code, response.text.replace(camera, "X")))
            assert answers[0] == answers[1], (method, path, answers)
            assert answers[0][0] in (403, 404, 422), (method, path, answers)
            walked += 1
    assert walked >= 8
