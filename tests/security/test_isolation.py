"""Tenant isolation over every route of the OpenAPI document.

The routes are read from the document at test time, so a route added later is covered without
touching this file. For each operation, the users of tenant "bravo" (every role) and the system
administrator try to reach tenant "alpha"'s cameras, events, snapshots, alert rules, cases,
users, camera groups and tokens: path parameters name alpha's objects, query parameters filter
for them, bodies claim them. Every attempt must be refused (403/404, or 422 for a body the
route rejects), or succeed without a byte of alpha's data in the answer; afterwards alpha's
data must be exactly as before. Anonymous callers get 401 everywhere except the public routes.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest

from tests.api.conftest import build_event, serve
from tests.security.conftest import World
from vigil.domain.events import EventMessage, Phase
from vigil.domain.frames import now_ms
from vigil.privacy.retention import CaseStore
from vigil.store.query import EventQuery

PUBLIC = {
    ("get", "/healthz"),
    ("get", "/api/auth/status"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/setup"),
    ("get", "/api/auth/link"),
}
STREAMING = ("text/event-stream", "multipart/x-mixed-replace")
ATTACKERS = [
    "bravo:admin",
    "bravo:operator",
    "bravo:investigator",
    "bravo:viewer",
    "bravo:auditor",
    "root",
]
REFUSED = {403, 404, 405, 409, 422}
PURPOSE = {"X-Vigil-Purpose": "isolation test"}


def operations(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    document = world.client("alpha:admin").get("/openapi.json").json()
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def is_streaming(operation: dict[str, Any]) -> bool:
    content = operation.get("responses", {}).get("200", {}).get("content", {})
    return any(kind.startswith(STREAMING) for kind in content)


def alpha_objects(world: World) -> dict[str, str]:
    """Ids of alpha's objects, one per kind of path parameter."""
    admin = world.client("alpha:admin")
    # Made as the operator would make it: nobody mints tokens for someone else.
    token = world.auth.store.create_token(
        world.user_ids["alpha:operator"], "alpha-token", None, now_ms() + 86_400_000
    )[0].id
    objects = {
        "camera": "alpha:gate",
        "event": world.events["alpha"].id,
        "user": world.user_ids["alpha:admin"],
        "case": world.case_ids["alpha"],
        "token": token,
        "name": "alpha-group",
        "tenant": "alpha",
    }
    # Alert rules and fired alerts, where the alerts API exists.
    rule = admin.post(
        "/api/alert-rules", json={"id": "alpha-rule", "tenant": "alpha", "classes": ["person"]}
    )
    if rule.status_code == 201:
        objects["rule"] = rule.json()["id"]  # 'alpha:alpha-rule', in alpha's namespace
    alerts = admin.get("/api/alerts")
    if alerts.status_code == 200 and alerts.json().get("items"):
        objects["alert"] = alerts.json()["items"][0]["id"]
    return objects


def fill_path(path: str, objects: dict[str, str]) -> list[str]:
    """The path with each parameter naming an alpha object; unknown parameters try each."""
    paths = [path]
    while "{" in paths[0]:
        name = paths[0].split("{", 1)[1].split("}", 1)[0]
        kinds = [kind for kind in objects if kind in name] or list(objects)
        paths = [p.replace("{" + name + "}", objects[kind], 1) for p in paths for kind in kinds]
    return paths


def query_for(operation: dict[str, Any], objects: dict[str, str]) -> dict[str, str]:
    params = {}
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        if parameter.get("in") != "query":
            continue
        if "camera" in name:
            params[name] = objects["camera"]
        elif name in ("tenant", "owner"):
            params[name] = "alpha"
        elif "event" in name:
            params[name] = objects["event"]
        elif name == "q" or name == "query":
            params[name] = "person"
    return params


def body_for(method: str, path: str, objects: dict[str, str]) -> Any:
    """A body that would act on alpha if the route let it."""
    camera = {
        "id": objects["camera"],
        "tenant": "alpha",
        "url": "rtsp://evil/x",
        "name": "taken over",
    }
    known: dict[str, Any] = {
        "/api/cameras": camera,
        "/api/cameras/{camera_id}": camera,
        "/api/users": {
            "username": "bravo-plant",
            "password": "a long enough password",
            "role": "admin",
            "tenant": "alpha",
        },
        "/api/users/{user_id}": {"role": "viewer", "disabled": True},
        "/api/users/{user_id}/password": {"password": "taken over password"},
        "/api/users/{user_id}/tokens": {"name": "stolen"},
        "/api/groups/{name}": {"cameras": [objects["camera"]]},
        "/api/cases": {"name": "grab", "purpose": "grab evidence", "event_ids": [objects["event"]]},
        "/api/cases/{case_id}/events": {"event_ids": [objects["event"]]},
        "/api/alert-rules": {"id": "bravo-rule", "tenant": "alpha", "classes": ["person"]},
        "/api/alert-rules/{rule_id}": {"tenant": "alpha", "classes": ["car"]},
        "/api/tenants": {"id": "alpha", "name": "renamed"},
    }
    if path in known:
        return known[path]
    return {
        "tenant": "alpha",
        "camera_id": objects["camera"],
        "cameras": [objects["camera"]],
        "event_id": objects["event"],
        "event_ids": [objects["event"]],
    }


def snapshot_of_alpha(world: World) -> dict[str, Any]:
    """Everything of alpha that an attack could change."""
    store, users = world.store, world.auth.store
    cases = CaseStore(store.engine).all(["alpha"])
    return {
        "cameras": sorted(
            (c.config.model_dump_json(), c.origin) for c in store.list_cameras(["alpha"])
        ),
        "engine": sorted(
            c.model_dump_json() for c in world.engine.cameras() if c.tenant == "alpha"
        ),
        "events": [
            e.model_dump_json() for e in store.query_events(EventQuery(tenants=["alpha"])).items
        ],
        "users": sorted(
            (u.username, u.role.value, u.disabled, u.password_hash, u.camera_groups)
            for u in users.list_users("alpha")
        ),
        "groups": users.list_groups("alpha"),
        "cases": [(c.id, c.released_ms, c.event_ids) for c in cases],
        "settings": users.tenant_settings("alpha"),
        "snapshot": world.media.get(world.events["alpha"].snapshot or ""),
        "tokens": sorted(
            (t.id, t.revoked_ms)
            for t in users.list_tokens([u.id for u in users.list_users("alpha")])
        ),
    }


def own_records_removed(text: str, attacker: str) -> str:
    """Audit records of the attacker's own tenant quote what its users sent (alpha's ids, in
    the attempts above): those are theirs. Any record of another tenant stays and counts."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return text
    own = attacker.split(":")[0]  # "bravo:auditor" is of tenant bravo
    data["items"] = [
        item
        for item in data["items"]
        if not (
            isinstance(item, dict)
            and "prev_hash" in item
            and item.get("tenant") == own
            and item["actor"].startswith(own)
        )
    ]
    return json.dumps(data)


def leaks(text: str, world: World, attacker: str) -> list[str]:
    text = own_records_removed(text, attacker)
    markers = ["alpha", world.events["alpha"].id, world.case_ids["alpha"]]
    if attacker == "root":
        # The system administrator manages every tenant's users and camera health, so user
        # names, tenant ids and camera ids are theirs to see; events, media, cases never.
        markers = [
            world.events["alpha"].id,
            world.case_ids["alpha"],
            "alpha snapshot",
            "alpha-case",
            "alpha-lot",
        ]
    return [marker for marker in markers if marker in text]


def test_every_route_refuses_other_tenants(world: World) -> None:
    objects = alpha_objects(world)
    before = snapshot_of_alpha(world)
    checked = 0
    for method, template, operation in operations(world):
        if is_streaming(operation):
            continue  # test_streams_never_carry_other_tenants_data
        if (method, template) in PUBLIC:
            continue
        for attacker in ATTACKERS:
            if attacker == "root" and method != "get":
                continue  # managing every tenant's users is the system administrator's job
            client = world.client(attacker, **PURPOSE)
            for path in fill_path(template, objects):
                kwargs: dict[str, Any] = {"params": query_for(operation, objects)}
                if "requestBody" in operation:
                    kwargs["json"] = body_for(method, template, objects)
                response = client.request(method.upper(), path, **kwargs)
                where = f"{attacker}: {method.upper()} {path} -> {response.status_code}"
                assert response.status_code < 500, f"{where}: {response.text[:300]}"
                if response.status_code in REFUSED:
                    continue
                assert 200 <= response.status_code < 300 or response.status_code == 429, where
                found = leaks(response.text, world, attacker)
                assert not found, f"{where} leaks {found}: {response.text[:300]}"
                checked += 1
    assert checked > 20  # the lists that answered, with alpha filtered out
    after = snapshot_of_alpha(world)
    for key in before:
        assert after[key] == before[key], f"alpha's {key} changed"


def test_anonymous_callers_get_401_except_on_public_routes(world: World) -> None:
    objects = alpha_objects(world)
    anonymous = world.client()
    for method, template, operation in operations(world):
        for path in fill_path(template, objects)[:1]:
            kwargs: dict[str, Any] = {}
            if "requestBody" in operation:
                kwargs["json"] = body_for(method, template, objects)
            response = anonymous.request(method.upper(), path, **kwargs)
            if (method, template) in PUBLIC:
                assert response.status_code != 500, path
                assert "alpha" not in response.text or "alpha" in json.dumps(kwargs), path
            else:
                assert response.status_code == 401, f"{method} {path}: {response.status_code}"


def test_no_route_bypasses_the_policy(world: World) -> None:
    """Plain Starlette routes and mounts get no FastAPI dependencies, so they would escape
    `authorize` and the test above; only the UI's static files may be one."""
    from fastapi.routing import APIRoute
    from starlette.routing import Mount, Route, WebSocketRoute

    for route in world.app.routes:
        if isinstance(route, Mount):
            assert route.path == "/static", f"mount {route.path} bypasses authorization"
        elif isinstance(route, WebSocketRoute) or (
            isinstance(route, Route) and not isinstance(route, APIRoute)
        ):
            pytest.fail(f"plain route {route.path} bypasses authorization")
    # And the few routes outside the document (UI page, API documents) still need a login
    # where they are not public.
    anonymous = world.client()
    assert anonymous.get("/").status_code == 200
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert anonymous.get(path).status_code == 401, path


def test_streams_never_carry_other_tenants_data(world: World) -> None:
    objects = alpha_objects(world)
    streams = [(m, p, o) for m, p, o in operations(world) if is_streaming(o)]
    assert streams, "the live streams are in the document"
    with serve(world.app) as url:
        for method, template, operation in streams:
            for attacker in ATTACKERS:
                headers = {"Authorization": f"Bearer {world.tokens[attacker]}", **PURPOSE}
                for path in fill_path(template, objects):
                    body = read_stream(world, url + path, headers, query_for(operation, objects))
                    status, text = body
                    where = f"{attacker}: {method.upper()} {path} -> {status}"
                    assert status in REFUSED or status == 200, where
                    if status == 200:  # a refusal may name what the caller asked for
                        assert not leaks(text, world, attacker), f"{where}: {text[:300]}"
                if "stream" in template and attacker == "bravo:admin":
                    # Unfiltered, the stream works: the own tenant's event arrives, alpha's not.
                    status, text = read_stream(world, url + template, headers, {})
                    assert status == 200 and world.events["bravo"].id in text
                    assert not leaks(text, world, attacker)
            anonymous = httpx.get(url + fill_path(template, objects)[0], timeout=5)
            assert anonymous.status_code == 401


def read_stream(
    world: World, url: str, headers: dict[str, str], params: dict[str, str]
) -> tuple[int, str]:
    """Open a stream, publish an event of each tenant while it is open, read for a moment."""
    chunks: list[str] = []
    timeout = httpx.Timeout(5, read=1.0)
    with httpx.stream("GET", url, headers=headers, params=params, timeout=timeout) as response:
        if response.status_code != 200:
            return response.status_code, response.read().decode(errors="replace")

        def publish() -> None:
            time.sleep(0.3)
            for tenant, camera in (("alpha", "alpha:gate"), ("bravo", "bravo:yard")):
                event = build_event(tenant=tenant, camera_id=camera, start_ms=now_ms())
                world.bus.publish(
                    EventMessage(
                        phase=Phase.START,
                        event=event.model_copy(update={"id": world.events[tenant].id}),
                    )
                )

        threading.Thread(target=publish, daemon=True).start()
        deadline = time.monotonic() + 1.5
        try:
            for chunk in response.iter_raw():
                chunks.append(chunk.decode("latin-1"))
                if time.monotonic() > deadline:
                    break
        except httpx.ReadTimeout:  # nothing more within a second: what came is what counts
            pass
    return 200, "".join(chunks)
