"""The static UI is served at / and /static/ when its directory exists."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from vigil.api.web import WEB_DIR, mount_web


def test_index_and_assets(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>Vigil</title>")
    (tmp_path / "app.js").write_text("export {};")
    app = FastAPI()
    mount_web(app, tmp_path)
    client = TestClient(app)
    index = client.get("/")
    assert index.status_code == 200 and "<title>Vigil</title>" in index.text
    assert index.headers["content-type"].startswith("text/html")
    assert client.get("/static/app.js").text == "export {};"
    assert client.get("/static/../index.html").status_code == 404
    assert client.get("/static/nothing.js").status_code == 404


def test_missing_directory_mounts_nothing(tmp_path: Path) -> None:
    app = FastAPI()
    mount_web(app, tmp_path / "absent")
    assert TestClient(app).get("/").status_code == 404


def test_the_app_serves_the_bundled_ui(client: TestClient) -> None:
    if (WEB_DIR / "index.html").is_file():
        response = client.get("/")
        assert response.status_code == 200 and "<html" in response.text
        assert "content-security-policy" in response.headers
    else:
        assert client.get("/").status_code == 404
