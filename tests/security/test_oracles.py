"""No existence oracles: what a guesser gets back does not tell which names or ids exist."""

from __future__ import annotations

from tests.security.conftest import PASSWORD, World


def test_a_locked_account_answers_exactly_as_an_unknown_user(world: World) -> None:
    client = world.client()
    for _ in range(world.config.security.lockout_failures):
        client.post("/api/auth/login", json={"username": "alpha-viewer", "password": "wrong!"})
    locked = client.post("/api/auth/login", json={"username": "alpha-viewer", "password": PASSWORD})
    unknown = client.post("/api/auth/login", json={"username": "nobody-at-all", "password": "x"})
    assert (locked.status_code, locked.json()) == (unknown.status_code, unknown.json())
    assert set(locked.headers) - {"date"} == set(unknown.headers) - {"date"}
    # The lockout itself still holds: the right password does not get in.
    assert locked.status_code == 401


def test_another_tenants_camera_answers_as_an_unknown_one(world: World) -> None:
    bravo = world.client("bravo-admin")
    for method, path in (
        ("get", "/api/cameras/{}"),
        ("delete", "/api/cameras/{}"),
        ("get", "/api/cameras/{}/live.jpg"),
    ):
        theirs = bravo.request(method.upper(), path.format("alpha-gate"))
        unknown = bravo.request(method.upper(), path.format("no-such-camera"))
        assert theirs.status_code == unknown.status_code == 404, path
        assert theirs.json()["detail"].replace("alpha-gate", "X") == unknown.json()[
            "detail"
        ].replace("no-such-camera", "X")


def test_tenant_admins_see_only_their_own_figures_on_metrics(world: World) -> None:
    """Process-wide counters (events published, snapshots, retention deletions, the sink's
    last error) add up every tenant's activity; a tenant admin gets their cameras only."""
    world.app.state.retention.run_once()
    tenant_view = world.client("alpha-admin").get("/metrics").text
    system_view = world.client("root").get("/metrics").text
    assert "vigil_retention_runs_total" in system_view
    for shared in ("vigil_retention", "vigil_inference", "vigil_events_published"):
        assert shared not in tenant_view, shared
    assert 'camera="alpha-gate"' in tenant_view and "bravo" not in tenant_view
