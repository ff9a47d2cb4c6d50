"""What each role may do, enforced by the route policy and again in the data layer."""

from __future__ import annotations

import pytest

from tests.security.conftest import World
from vigil.alerts.config import RuleConfig
from vigil.auth.principal import user_principal
from vigil.auth.roles import Role
from vigil.domain.events import EventMessage, EventState, Phase
from vigil.store.query import EventQuery

PURPOSE = {"X-Vigil-Purpose": "case 2026-117: bicycle theft at the gate"}


def requests(world: World) -> dict[str, tuple[str, str]]:
    event = world.events["alpha"].id
    return {
        "cameras": ("GET", "/api/cameras"),
        "live": ("GET", "/api/cameras/alpha:gate/live.jpg"),
        "events": ("GET", "/api/events"),
        "event": ("GET", f"/api/events/{event}"),
        "snapshot": ("GET", f"/api/events/{event}/snapshot.jpg"),
        "export": ("GET", "/api/events?format=csv"),
        "counts": ("GET", "/api/counts"),
        "users": ("GET", "/api/users"),
        "audit": ("GET", "/api/audit"),
        "metrics": ("GET", "/metrics"),
        "cases": ("GET", "/api/cases"),
        "retention": ("GET", "/api/retention"),
    }


ALLOWED = {
    "admin": {"cameras", "live", "events", "event", "snapshot", "export", "counts", "users",
              "metrics", "cases", "retention"},
    "operator": {"cameras", "live", "events", "event", "counts"},
    "investigator": {"cameras", "events", "event", "snapshot", "export", "counts", "cases"},
    "viewer": {"cameras", "live"},
    "auditor": {"audit"},
}


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_role_matrix(world: World, role: str) -> None:
    client = world.client(f"alpha:{role}", **PURPOSE)
    got = {}
    for name, (method, path) in requests(world).items():
        got[name] = client.request(method, path).status_code
    allowed = {name for name, status in got.items() if status == 200}
    assert allowed == ALLOWED[role], got
    assert all(status == 403 for name, status in got.items() if name not in allowed), got


def test_system_administrator_manages_tenants_and_users_but_sees_no_media(world: World) -> None:
    root = world.client("root", **PURPOSE)
    for name, (method, path) in requests(world).items():
        status = root.request(method, path).status_code
        expected = 200 if name in {"users", "metrics"} else 403
        assert status == expected, (name, status)
    users = {u["username"] for u in root.get("/api/users").json()}
    assert {"alpha:admin", "bravo:admin", "dpo"} <= users
    created = root.post("/api/tenants", json={"id": "charlie", "name": "Charlie water"})
    assert created.status_code == 201
    admin = root.post("/api/users", json={"username": "charlie-admin", "password":
                                          "charlie's long password", "role": "admin",
                                          "tenant": "charlie"})
    assert admin.status_code == 201 and admin.json()["tenant"] == "charlie"
    # /metrics for the system administrator: camera health of every tenant, never media.
    text = root.get("/metrics").text
    assert 'camera="alpha:gate"' in text and 'camera="bravo:yard"' in text


def test_tenant_admin_metrics_show_only_their_cameras(world: World) -> None:
    text = world.client("alpha:admin").get("/metrics").text
    assert 'camera="alpha:gate"' in text and "bravo" not in text


def test_tenant_admin_metrics_show_only_their_tenants_alert_series(world: World) -> None:
    service = world.app.state.alerts
    for tenant in ("alpha", "bravo"):
        service.save_rule(RuleConfig(id=f"{tenant}-any", tenant=tenant,
                                     cameras=["alpha:gate" if tenant == "alpha"
                                              else "bravo:yard"]), create=True)
        assert service.handle(EventMessage(phase=Phase.END, event=world.events[tenant]))
    text = world.client("alpha:admin").get("/metrics").text
    assert 'vigil_alerts_fired_total{tenant="alpha"} 1.0' in text
    assert 'vigil_alerts_unacknowledged{tenant="alpha"} 1.0' in text
    assert "bravo" not in text
    # The system administrator sees every tenant's series.
    root = world.client("root").get("/metrics").text
    assert 'vigil_alerts_fired_total{tenant="bravo"} 1.0' in root
    assert 'vigil_alerts_unacknowledged{tenant="alpha"} 1.0' in root


def test_alert_settings_and_actions_of_one_tenant_are_out_of_anothers_reach(world: World
                                                                            ) -> None:
    alpha, bravo = world.client("alpha:admin"), world.client("bravo:admin")
    cameras = [c["camera_id"] for c in alpha.get("/api/alert-cameras").json()]
    assert "alpha:gate" in cameras and not any(c.startswith("bravo") for c in cameras)
    refused = alpha.put("/api/alert-cameras/bravo:yard", json={"alert_types": []})
    assert refused.status_code == 404
    created = bravo.post("/api/alert-actions/bravo-hook",
                         json={"type": "webhook", "url": "https://b.example.org/h",
                               "secret": "bravo-secret"})
    assert created.status_code == 201 and created.json()["tenant"] == "bravo"
    assert "bravo" not in alpha.get("/api/alert-actions").text
    taken = alpha.put("/api/alert-actions/bravo-hook",
                      json={"type": "webhook", "url": "https://a.example.org/h"})
    assert taken.status_code == 404
    # Nor may a rule of alpha send through bravo's action.
    rule = alpha.post("/api/alert-rules", json={"name": "x", "line": "door",
                                                "actions": ["bravo-hook"]})
    assert rule.status_code == 422 and "bravo-hook" in rule.json()["detail"]
    assert world.client("alpha:operator").put(
        "/api/alert-cameras/alpha:gate", json={"alert_types": []}).status_code == 403


def test_investigators_state_a_purpose_and_it_is_recorded(world: World) -> None:
    investigator = world.client("alpha:investigator")
    event = world.events["alpha"].id
    for path in ("/api/events", f"/api/events/{event}", f"/api/events/{event}/snapshot.jpg",
                 "/api/events?format=csv"):
        refused = investigator.get(path)
        assert refused.status_code == 403 and "purpose" in refused.json()["detail"], path
    snapshot = investigator.get(f"/api/events/{event}/snapshot.jpg", headers=PURPOSE)
    assert snapshot.status_code == 200
    search = investigator.get("/api/events", params={"purpose": "patrol report 12"})
    assert search.status_code == 200
    # A session may state its purpose once; it then goes with every request.
    session = world.session("alpha:investigator")
    assert session.put("/api/auth/purpose", json={"purpose": "case 99"}).status_code == 200
    assert session.get(f"/api/events/{event}").status_code == 200
    records = world.client("alpha:auditor").get("/api/audit", params={"limit": 50}).json()["items"]
    by_action = {(r["action"], r["purpose"]) for r in records
                 if r["actor"].startswith("alpha:investigator")}
    assert ("media.view", PURPOSE["X-Vigil-Purpose"]) in by_action
    assert ("event.search", "patrol report 12") in by_action
    assert ("event.view", "case 99") in by_action
    assert ("auth.purpose", "case 99") in by_action


def test_tenant_admin_cannot_grant_system_roles_or_reach_other_tenants(world: World) -> None:
    admin = world.client("alpha:admin")
    for body in ({"role": "sysadmin"}, {"role": "admin", "tenant": "bravo"}):
        response = admin.post("/api/users", json={
            "username": "sneaky", "password": "a long enough password", **body})
        assert response.status_code == 403, body
    bravo_user = world.user_ids["bravo:operator"]
    assert admin.patch(f"/api/users/{bravo_user}", json={"role": "admin"}).status_code == 404
    assert admin.post(f"/api/users/{bravo_user}/password",
                      json={"password": "taken over now!"}).status_code == 404
    me = world.user_ids["alpha:admin"]
    assert admin.patch(f"/api/users/{me}", json={"role": "viewer"}).status_code == 409
    promoted = admin.patch(f"/api/users/{world.user_ids['alpha:viewer']}",
                           json={"role": "operator"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "operator"


def test_camera_groups_narrow_a_user_to_some_cameras(world: World) -> None:
    admin = world.client("alpha:admin")
    assert admin.put("/api/groups/docks", json={"cameras": ["alpha:dock"]}).status_code == 200
    assert admin.put("/api/groups/stolen", json={"cameras": ["bravo:yard"]}).status_code == 422
    made = admin.post("/api/users", json={"username": "dock-watch", "password": "dock watch pass 1",
                                          "role": "operator", "camera_groups": ["docks"]})
    assert (made.status_code, made.json()["username"]) == (201, "alpha:dock-watch")
    client = world.client()
    login = client.post("/api/auth/login", json={"username": "alpha:dock-watch",
                                                 "password": "dock watch pass 1"})
    assert login.status_code == 200
    assert [c["id"] for c in client.get("/api/cameras").json()] == ["alpha:dock"]
    assert client.get("/api/cameras/alpha:gate/live.jpg").status_code == 404
    assert client.get("/api/cameras/alpha:dock/live.jpg").status_code == 200
    assert client.get("/api/events").json()["items"] == []  # the events are alpha:gate's


def test_the_data_layer_filters_by_role_even_without_the_route_policy(world: World) -> None:
    """A store read with a viewer's scope returns no events, whatever a route forgets."""
    viewer = user_principal(user_id="u", username="v", role=Role.VIEWER, tenant="alpha",
                            cameras=None, via="token")
    scope = viewer.scope()
    assert scope is not None and set(scope) == {"alpha"}
    assert world.store.query_events(EventQuery(tenants=scope)).items == []
    assert world.store.get_event(world.events["alpha"].id, scope) is None
    assert {c.config.id for c in world.store.list_cameras(scope)} == {"alpha:gate", "alpha:dock"}
    operator = user_principal(user_id="u", username="o", role=Role.OPERATOR, tenant="alpha",
                              cameras=frozenset({"alpha:dock"}), via="token")
    assert world.store.query_events(EventQuery(tenants=operator.scope())).items == []
    full = user_principal(user_id="u", username="a", role=Role.ADMIN, tenant="alpha",
                          cameras=None, via="token")
    items = world.store.query_events(EventQuery(tenants=full.scope(), state=EventState.ENDED))
    assert [e.id for e in items.items] == [world.events["alpha"].id]
    sysadmin = user_principal(user_id="u", username="r", role=Role.SYSADMIN, tenant=None,
                              cameras=None, via="token")
    assert world.store.list_cameras(sysadmin.scope()) == []
