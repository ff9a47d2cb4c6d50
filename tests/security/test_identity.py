"""Login, sessions, CSRF, lockout, rate limits, API tokens, first run and login links."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.databases import database_url
from tests.security.conftest import PASSWORD, World, make_world
from vigil.auth.passwords import hash_password
from vigil.auth.roles import Permission
from vigil.auth.tables import api_tokens, sessions, users
from vigil.domain.frames import now_ms


def test_public_routes_and_everything_else_needs_a_login(world: World) -> None:
    anonymous = world.client()
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get("/").status_code == 200
    assert anonymous.get("/static/app.js").status_code == 200
    assert anonymous.get("/api/auth/status").json() == {
        "setup_required": False,
        "setup_here": False,
        "demo": False,
    }
    for path in (
        "/api/cameras",
        "/api/events",
        "/metrics",
        "/openapi.json",
        "/docs",
        "/api/auth/me",
        "/api/users",
        "/api/audit",
    ):
        response = anonymous.get(path)
        assert response.status_code == 401, path
        assert response.json() == {"detail": "log in first"}


def test_login_sets_strict_http_only_cookies_and_csrf_guards_changes(world: World) -> None:
    client = TestClient(world.app, base_url="https://testserver")
    response = client.post(
        "/api/auth/login", json={"username": "alpha:admin", "password": PASSWORD}
    )
    assert response.status_code == 200
    me = response.json()
    assert (me["username"], me["role"], me["tenant"], me["via"]) == (
        "alpha:admin",
        "admin",
        "alpha",
        "session",
    )
    cookies = {c.split("=")[0]: c for c in response.headers.get_list("set-cookie")}
    session = cookies["vigil_session"].lower()
    assert "httponly" in session and "samesite=strict" in session and "secure" in session
    csrf = cookies["vigil_csrf"].lower()
    assert "httponly" not in csrf and "samesite=strict" in csrf
    # The session token is stored only as its hash.
    token = client.cookies["vigil_session"]
    with world.store.engine.connect() as connection:
        stored = connection.execute(sa.select(sessions.c.id)).scalars().all()
    assert token not in stored and len(stored) == 1
    # Reads need no CSRF token; changes do, and it must be the session's.
    assert client.get("/api/cameras").status_code == 200
    body = {"person_colors": True}
    assert client.put("/api/settings/privacy", json=body).status_code == 403
    wrong = client.put("/api/settings/privacy", json=body, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403 and "CSRF" in wrong.json()["detail"]
    ok = client.put("/api/settings/privacy", json=body, headers={"X-CSRF-Token": me["csrf_token"]})
    assert ok.status_code == 200
    # Logging out ends the session on the server, not only in the browser.
    out = client.post("/api/auth/logout", headers={"X-CSRF-Token": me["csrf_token"]})
    assert out.status_code == 204
    client.cookies.set("vigil_session", token)
    assert client.get("/api/cameras").status_code == 401


def test_cookies_are_not_secure_over_plain_http(world: World) -> None:
    client = TestClient(world.app)  # http://testserver
    response = client.post(
        "/api/auth/login", json={"username": "alpha:admin", "password": PASSWORD}
    )
    assert "secure" not in response.headers["set-cookie"].lower()


def test_passwords_are_argon2id_and_wrong_ones_lock_the_account(world: World) -> None:
    with world.store.engine.connect() as connection:
        stored = connection.execute(sa.select(users.c.password_hash)).scalars().all()
    assert all(value.startswith("$argon2id$") for value in stored)
    assert not any(PASSWORD in value for value in stored)
    client = world.client()
    attempts = world.config.security.lockout_failures
    for _ in range(attempts):
        wrong = client.post(
            "/api/auth/login", json={"username": "bravo:viewer", "password": "wrong password!"}
        )
        assert wrong.status_code == 401
    locked = client.post("/api/auth/login", json={"username": "bravo:viewer", "password": PASSWORD})
    # Even the right password is refused now, answered as for an unknown user.
    assert locked.status_code == 401 and locked.json()["detail"] == "wrong user name or password"
    # The tenant's admin unlocks it; then the right password works again.
    user_id = world.user_ids["bravo:viewer"]
    assert world.client("bravo:admin").post(f"/api/users/{user_id}/unlock").status_code == 204
    assert (
        client.post(
            "/api/auth/login", json={"username": "bravo:viewer", "password": PASSWORD}
        ).status_code
        == 200
    )


def test_logins_are_rate_limited_per_client_address(tmp_path: Path) -> None:
    world = make_world(tmp_path, security={"login_per_minute": 3})
    client = world.client()
    for _ in range(3):
        client.post("/api/auth/login", json={"username": "nobody", "password": "x"})
    limited = client.post("/api/auth/login", json={"username": "alpha:admin", "password": PASSWORD})
    assert limited.status_code == 429 and "retry-after" in limited.headers


def test_searches_are_rate_limited_per_user(tmp_path: Path) -> None:
    world = make_world(tmp_path, security={"search_per_minute": 2})
    client = world.client("alpha:operator")
    assert [client.get("/api/events").status_code for _ in range(3)] == [200, 200, 429]
    assert world.client("alpha:admin").get("/api/events").status_code == 200


def test_tokens_are_hashed_scoped_expiring_and_revocable(world: World) -> None:
    admin = world.session("alpha:admin")
    created = admin.post(
        "/api/auth/tokens", json={"name": "dashboard", "scopes": ["events:read"], "days": 1}
    )
    assert created.status_code == 201
    secret, token_id = created.json()["token"], created.json()["id"]
    assert secret.startswith(f"vgl_{token_id}_")
    with world.store.engine.connect() as connection:
        stored = connection.execute(
            sa.select(api_tokens.c.secret_hash).where(api_tokens.c.id == token_id)
        ).scalar_one()
    assert secret.split("_")[-1] not in stored
    bearer = world.client()
    bearer.headers["Authorization"] = f"Bearer {secret}"
    assert bearer.get("/api/events").status_code == 200
    # Narrowed to events:read: no live view, no snapshots, though the owner is an admin.
    assert bearer.get("/api/cameras/alpha:gate/live.jpg").status_code == 403
    assert bearer.get(f"/api/events/{world.events['alpha'].id}/snapshot.jpg").status_code == 403
    # A token cannot mint tokens, and scopes beyond the role are refused.
    assert bearer.post("/api/auth/tokens", json={"name": "x"}).status_code == 403
    viewer = world.session("alpha:viewer")
    too_much = viewer.post("/api/auth/tokens", json={"name": "x", "scopes": ["media:read"]})
    assert too_much.status_code == 422
    # Revoked or expired tokens stop at once; garbage is simply not a login.
    assert admin.delete(f"/api/auth/tokens/{token_id}").status_code == 204
    assert bearer.get("/api/events").status_code == 401
    _expired, secret2 = world.auth.store.create_token(
        world.user_ids["alpha:admin"], "old", None, now_ms() - 1
    )
    bearer.headers["Authorization"] = f"Bearer {secret2}"
    assert bearer.get("/api/events").status_code == 401
    junks = ("Bearer", "Bearer vgl_x_y", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer " + "a" * 5000)
    for junk in junks:
        bearer.headers["Authorization"] = junk
        assert bearer.get("/api/events").status_code == 401, junk


def test_disabling_a_user_ends_their_sessions_and_tokens(world: World) -> None:
    operator = world.session("alpha:operator")
    token_client = world.client("alpha:operator")
    user_id = world.user_ids["alpha:operator"]
    changed = world.client("alpha:admin").patch(f"/api/users/{user_id}", json={"disabled": True})
    assert changed.status_code == 200 and changed.json()["disabled"] is True
    assert operator.get("/api/events").status_code == 401
    assert token_client.get("/api/events").status_code == 401
    assert (
        world.client()
        .post("/api/auth/login", json={"username": "alpha:operator", "password": PASSWORD})
        .status_code
        == 401
    )


def test_first_run_has_no_default_user_and_refuses_remote_clients(tmp_path: Path) -> None:
    from tests.api.conftest import StaticEngine, api_app
    from vigil.auth.wiring import describe_first_run
    from vigil.bus import MemoryBus
    from vigil.config import parse_config
    from vigil.store import EventStore, LocalMediaStore

    config = parse_config(
        {"store": {"url": database_url(tmp_path), "media_dir": str(tmp_path / "m")}}
    )
    store = EventStore(config.store.url)
    app = api_app(config, StaticEngine([]), store, LocalMediaStore(tmp_path / "m"), MemoryBus())
    remote = TestClient(app, client=("203.0.113.9", 5000))
    assert remote.get("/api/cameras").status_code == 503
    assert "create-admin" in remote.get("/api/auth/status").json()["detail"]
    assert remote.get("/healthz").status_code == 200
    for guess in ("admin", "vigil", "root"):
        login = remote.post("/api/auth/login", json={"username": guess, "password": guess})
        assert login.status_code == 503
    message = describe_first_run(app, "http://127.0.0.1:8080")
    assert message is not None
    code = message.rsplit(" ", 1)[-1]
    local = TestClient(app, client=("127.0.0.1", 5000), base_url="http://127.0.0.1:8080")
    assert local.get("/api/auth/status").json()["setup_here"] is True
    body = {"code": code, "username": "chief", "password": PASSWORD}
    # The first-run page answers only on the machine itself, and only with the code.
    assert remote.post("/api/auth/setup", json=body).status_code == 503
    assert local.post("/api/auth/setup", json={**body, "code": "nope"}).status_code == 403
    done = local.post("/api/auth/setup", json=body)
    assert done.status_code == 200 and done.json()["role"] == "admin"
    assert local.get("/api/cameras").status_code == 200  # logged in by the setup
    assert local.post("/api/auth/setup", json=body).status_code == 409
    assert describe_first_run(app, "x") is None
    assert remote.get("/api/cameras").status_code == 401  # remote clients now need a login
    store.close()


def test_demo_link_logs_in_once_and_only_locally(world: World) -> None:
    from vigil.auth.demo import prepare_demo_login

    banner = prepare_demo_login(world.auth, "http://127.0.0.1:8080")
    link = next(line.strip() for line in banner.splitlines() if "/api/auth/link?code=" in line)
    path = link.removeprefix("http://127.0.0.1:8080")
    password = banner.rsplit("password: ", 1)[1].split()[0]
    remote = world.client()
    assert remote.get(path, follow_redirects=False).status_code == 403
    local = TestClient(world.app, client=("127.0.0.1", 1), follow_redirects=False)
    first = local.get(path)
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert local.get("/api/auth/me").json()["username"] == "demo"
    again = TestClient(world.app, client=("127.0.0.1", 1), follow_redirects=False).get(path)
    assert again.status_code == 401  # used up
    login = world.client().post("/api/auth/login", json={"username": "demo", "password": password})
    assert login.status_code == 200 and login.json()["role"] == "admin"
    # A second start makes a new password; the old one stops working.
    prepare_demo_login(world.auth, "http://127.0.0.1:8080")
    assert (
        world.client()
        .post("/api/auth/login", json={"username": "demo", "password": password})
        .status_code
        == 401
    )


def test_changing_your_password_checks_the_old_one_and_ends_sessions(world: World) -> None:
    client = world.session("bravo:auditor")
    bad = client.post(
        "/api/auth/password",
        json={"current_password": "wrong", "new_password": "another long password"},
    )
    assert bad.status_code == 403
    weak = client.post(
        "/api/auth/password", json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert weak.status_code == 422 and "12 characters" in weak.json()["detail"]
    ok = client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "another long password"},
    )
    assert ok.status_code == 204
    assert client.get("/api/auth/me").status_code == 401
    assert (
        world.client()
        .post(
            "/api/auth/login",
            json={"username": "bravo:auditor", "password": "another long password"},
        )
        .status_code
        == 200
    )


def test_rehash_keeps_working_for_old_parameters(world: World) -> None:
    # A hash made with other argon2id parameters still verifies (and is upgraded on login).
    from argon2 import PasswordHasher

    old = PasswordHasher(time_cost=2, memory_cost=512, parallelism=2).hash(PASSWORD)
    with world.store.engine.begin() as connection:
        connection.execute(
            sa.update(users).where(users.c.username == "alpha:viewer").values(password_hash=old)
        )
    assert (
        world.client()
        .post("/api/auth/login", json={"username": "alpha:viewer", "password": PASSWORD})
        .status_code
        == 200
    )
    with world.store.engine.connect() as connection:
        now = connection.execute(
            sa.select(users.c.password_hash).where(users.c.username == "alpha:viewer")
        ).scalar_one()
    assert now != old and now.startswith("$argon2id$")
    assert hash_password("x" * 12).startswith("$argon2id$")
    assert Permission.MEDIA_READ.value == "media:read"
