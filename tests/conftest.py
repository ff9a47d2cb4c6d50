"""Fixtures shared by the whole suite: bundled files, and a demo-like config."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.media import DEMO
from tests.services.fixtures import (  # noqa: F401  (session fixtures)
    postgres_server,
    postgres_url,
    seaweed_server,
)
from vigil.config import ROOT, VigilConfig, load_config

# Cheap argon2id parameters for the suite (and the servers it starts); see vigil.auth.passwords.
os.environ.setdefault("VIGIL_ARGON2_FAST", "1")


@pytest.fixture
def demo_config(tmp_path: Path) -> VigilConfig:
    """The demo's settings with its store and snapshots in a fresh temporary directory."""
    config = load_config(DEMO)
    config.store.url = f"sqlite:///{tmp_path / 'vigil.db'}"
    config.store.media_dir = tmp_path / "media"
    for camera in config.cameras:
        camera.url = str(ROOT / camera.url)
    return config
