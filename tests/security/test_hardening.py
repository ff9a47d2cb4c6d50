"""Security headers, body limits, CORS, credentials at rest, traversal, bound SQL."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.security.conftest import World, make_world
from vigil.auth.secrets import SecretBox, SecretError
from vigil.store import EventStore
from vigil.store.schema import cameras

SRC = Path(__file__).resolve().parents[2] / "src" / "vigil"


def test_security_headers_on_every_answer(world: World) -> None:
    admin = world.client("alpha:admin")
    for client, path in ((world.client(), "/"), (world.client(), "/api/cameras"),
                         (admin, "/api/events"), (world.client(), "/static/app.js"),
                         (admin, "/nowhere")):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self'" in headers["content-security-policy"]


def test_request_bodies_are_limited(world: World) -> None:
    admin = world.session("alpha:admin")
    big = {"name": "x" * (2 * 1024 * 1024), "purpose": "big"}
    assert admin.post("/api/cases", json=big).status_code == 413
    login = world.client().post("/api/auth/login", content=b"{" + b" " * (1024 * 1024 + 10),
                                headers={"content-type": "application/json"})
    assert login.status_code == 413


def test_nul_characters_are_refused_everywhere(world: World) -> None:
    """PostgreSQL cannot store NUL in text: the same requests are a 422 on both stores, never a
    500 (and the hint, `\\u0000` spelled out, is still accepted)."""
    admin = world.session("alpha:admin")
    refused = [
        admin.get("/api/events", params={"camera": "alpha\x00gate"}),
        admin.get("/api/events/%00"),
        admin.get("/api/counts", params={"line": "\x00"}),
        admin.post("/api/cases", json={"name": "a\x00b", "purpose": "p"}),
        admin.post("/api/cases", content=b'{"name": "x", "purpose": "\\u0000"}',
                   headers={"content-type": "application/json"}),
        world.client().post("/api/auth/login", json={"username": "\x00", "password": "x"}),
    ]
    for response in refused:
        assert response.status_code == 422 and "NUL" in response.json()["detail"], response.text
    spelled = admin.post("/api/cases", json={"name": "a\\u0000b", "purpose": "an inquiry"})
    assert spelled.status_code in (200, 201), spelled.text


def test_no_cross_origin_access_by_default(world: World) -> None:
    client = world.client("alpha:admin")
    simple = client.get("/api/events", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers
    preflight = client.options("/api/events", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_exactly_the_configured_origins_without_cookies(tmp_path: Path) -> None:
    world = make_world(tmp_path, security={"cors_origins": ["https://wall.city.example"]})
    client = world.client("alpha:admin")
    good = client.get("/api/events", headers={"Origin": "https://wall.city.example"})
    assert good.headers["access-control-allow-origin"] == "https://wall.city.example"
    assert "access-control-allow-credentials" not in good.headers
    bad = client.get("/api/events", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in bad.headers


def test_camera_credentials_are_encrypted_at_rest_and_never_returned(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "vigil.key"
    box = SecretBox.from_key_file(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    world = make_world(tmp_path)
    store = EventStore(world.config.store.url, secrets=box)
    world.app.state.context.store = store  # as `vigil serve` builds it: with the key
    store.sync_config_cameras(world.config.cameras)
    with store.engine.connect() as connection:
        raw = " ".join(str(row) for row in connection.execute(sa.select(cameras.c.config)))
    assert "alphasecret" not in raw and "alphauser" not in raw and "enc:v1:" in raw
    stored = store.get_camera("alpha:gate")
    assert stored is not None and "alphasecret" in stored.config.url  # decrypted for the engine
    admin = world.client("alpha:admin")
    for path in ("/api/cameras", "/api/cameras/alpha:gate"):
        text = admin.get(path).text
        assert "alphasecret" not in text and "***" in text
    audit = world.client("dpo").get("/api/audit", params={"limit": 1000}).text
    assert "alphasecret" not in audit
    # A key readable by others is refused, and a wrong key cannot read the rows.
    os.chmod(key_file, 0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        SecretBox.from_key_file(key_file)
    other = SecretBox.from_key_file(tmp_path / "other.key")
    with pytest.raises(SecretError):
        other.decrypt(box.encrypt("rtsp://u:p@h/"))
    store.close()


def test_media_cannot_be_guessed_or_traversed(world: World) -> None:
    admin = world.client("alpha:admin")
    for path in ("/api/events/..%2F..%2Fvigil.db/snapshot.jpg",
                 "/api/events/../../etc/passwd", "/static/../vigil.key",
                 "/static/..%2F..%2F..%2Fvigil.db", "/media/alpha/alpha.gate/x.jpg",
                 "/api/events/00000000-0000-0000-0000-000000000000/snapshot.jpg"):
        response = admin.get(path)
        assert response.status_code in (404, 422), (path, response.status_code)
        assert b"\xff\xd8" not in response.content
    # An event row whose key points outside its tenant's media is never read.
    event = world.events["alpha"].model_copy(update={
        "id": "01900000-0000-7000-8000-000000000001",
        "snapshot": world.events["bravo"].snapshot})
    world.store.upsert_events([event])
    assert admin.get(f"/api/events/{event.id}/snapshot.jpg").status_code == 404


# Formatted identifiers that come from the database itself, not from a request.
INTERNAL_IDENTIFIERS = {
    # partition names read from the catalogue and matched against the day-partition pattern
    ("store/postgres.py", "name"),
}


def test_sql_is_built_from_bound_parameters_only() -> None:
    """No SQL text is assembled from values: every query goes through SQLAlchemy Core
    expressions, whose values are bound parameters. Formatted SQL may only insert constants
    (UPPER_CASE names), int() casts, or identifiers the database itself listed."""
    formatted = re.compile(r"""(execute|text|exec_driver_sql)\(\s*f["'](.*?)["']""")
    offenders = []
    for path in SRC.rglob("*.py"):
        where = str(path.relative_to(SRC))
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = formatted.search(line)
            if match is None:
                continue
            for field in re.findall(r"{([^}]*)}", match.group(2)):
                constant = re.fullmatch(r"[A-Z_][A-Z0-9_]*|int\(.*\)", field)
                if not constant and (where, field) not in INTERNAL_IDENTIFIERS:
                    offenders.append(f"{where}:{number}: {line.strip()}")
    assert offenders == []


def test_user_input_in_filters_is_data_not_sql(world: World) -> None:
    admin = world.client("alpha:admin")
    for hostile in ("' OR '1'='1", "alpha:gate'; DROP TABLE events; --", "bravo:yard"):
        response = admin.get("/api/events", params={"camera": hostile})
        assert response.status_code == 200 and response.json()["items"] == []
    assert len(admin.get("/api/events").json()["items"]) == 1
    login = world.client().post("/api/auth/login", json={
        "username": "' OR 1=1 --", "password": "x"})
    assert login.status_code == 401
