"""The HTTP API (FastAPI): REST, live streams, metrics and the static web UI."""

from vigil.api.app import create_app

__all__ = ["create_app"]
