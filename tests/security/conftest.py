"""Two tenants, users of every role in each, real sessions and tokens, one app.

Tenant "alpha" is the one being attacked: its cameras, events, snapshots, users, camera
groups, alert rules and cases carry "alpha" in their ids and names, so a response that leaks any
of them is easy to spot. Tenant "bravo" is the attacker's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.conftest import BASE_MS, StaticEngine, api_app, build_event
from tests.databases import database_url
from vigil.auth.roles import ROLE_PERMISSIONS, Role
from vigil.auth.service import AuthService
from vigil.bus import MemoryBus
from vigil.config import VigilConfig, parse_config
from vigil.domain.events import Event
from vigil.domain.frames import now_ms
from vigil.store import EventStore, LocalMediaStore, media_key

PASSWORD = "correct horse battery staple"
CONFIG: dict[str, Any] = {
    "cameras": [
        {"id": "alpha:gate", "name": "Alpha gate", "tenant": "alpha",
         "url": "rtsp://alphauser:alphasecret@10.0.0.5/stream",
         "zones": [{"name": "alpha-lot", "polygon": [[0, 0], [100, 0], [100, 100]]}],
         "modules": {"zone": {}}},
        {"id": "alpha:dock", "name": "Alpha dock", "tenant": "alpha", "url": "media/a.mp4"},
        {"id": "bravo:yard", "name": "Bravo yard", "tenant": "bravo", "url": "media/b.mp4"},
    ]
}
ROLES = [Role.ADMIN, Role.OPERATOR, Role.INVESTIGATOR, Role.VIEWER, Role.AUDITOR]


@dataclass
class World:
    app: FastAPI
    store: EventStore
    media: LocalMediaStore
    engine: StaticEngine
    config: VigilConfig
    auth: AuthService
    bus: MemoryBus
    events: dict[str, Event] = field(default_factory=dict)  # by tenant
    tokens: dict[str, str] = field(default_factory=dict)  # by user name
    user_ids: dict[str, str] = field(default_factory=dict)
    case_ids: dict[str, str] = field(default_factory=dict)

    def client(self, username: str | None = None, **headers: str) -> TestClient:
        client = TestClient(self.app, raise_server_exceptions=False)
        if username is not None:
            client.headers["Authorization"] = f"Bearer {self.tokens[username]}"
        client.headers.update(headers)
        return client

    def session(self, username: str) -> TestClient:
        """A client logged in with a password: session cookie plus CSRF header."""
        client = TestClient(self.app, raise_server_exceptions=False, base_url="https://testserver")
        response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client


def make_world(tmp_path: Path, **config_overrides: Any) -> World:
    config = parse_config({**CONFIG, **config_overrides})
    config.store.url = database_url(tmp_path)
    config.store.media_dir = tmp_path / "media"
    store = EventStore(config.store.url)
    store.migrate()
    store.sync_config_cameras(config.cameras)
    media = LocalMediaStore(config.store.media_dir)
    engine = StaticEngine(config.cameras)
    for camera in config.cameras:
        engine.set_frame(camera.id, BASE_MS)
    bus = MemoryBus()
    app = api_app(config, engine, store, media, bus)
    world = World(app, store, media, engine, config, app.state.auth, bus)
    users = world.auth.store
    for tenant, camera in (("alpha", "alpha:gate"), ("bravo", "bravo:yard")):
        event = build_event(tenant=tenant, camera_id=camera, start_ms=now_ms() - 60_000)
        key = media_key(tenant, camera, event.start_ms, event.id)
        media.put(key, b"\xff\xd8" + tenant.encode() + b" snapshot", "image/jpeg")
        event = event.model_copy(update={"snapshot": key})
        store.upsert_events([event])
        world.events[tenant] = event
        users.put_group(tenant, f"{tenant}-group", [camera])
        for role in ROLES:
            name = f"{tenant}:{role.value}"
            user = users.create_user(name, PASSWORD, role, tenant)
            world.user_ids[name] = user.id
            _token, secret = users.create_token(
                user.id, "test", None, now_ms() + 86_400_000
            )
            world.tokens[name] = secret
    for name, role, tenant in (("root", Role.SYSADMIN, None), ("dpo", Role.AUDITOR, None)):
        user = users.create_user(name, PASSWORD, role, tenant)
        world.user_ids[name] = user.id
        world.tokens[name] = users.create_token(user.id, "t", None, now_ms() + 86_400_000)[1]
    from vigil.privacy.retention import CaseStore

    cases = CaseStore(store.engine)
    for tenant in ("alpha", "bravo"):
        case = cases.create(tenant, f"{tenant}-case", "investigation", f"{tenant}:admin")
        cases.add_events(case, [world.events[tenant].id])
        world.case_ids[tenant] = case.id
    assert set(ROLE_PERMISSIONS) == {*ROLES, Role.SYSADMIN}
    return world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    built = make_world(tmp_path)
    yield built
    built.store.close()
