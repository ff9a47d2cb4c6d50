"""The static web UI: index.html at / and its assets under /static/."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parents[1] / "web"


def mount_web(app: FastAPI, directory: Path = WEB_DIR) -> None:
    """Serve the UI if its directory exists (a headless install may leave it out)."""
    if not directory.is_dir():
        return
    index = directory / "index.html"

    @app.get("/", include_in_schema=False)
    def index_page() -> FileResponse:
        if not index.is_file():
            raise HTTPException(404, "the web UI is not installed")
        # Revalidated on every load so an upgrade is picked up at once.
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=directory), name="static")
