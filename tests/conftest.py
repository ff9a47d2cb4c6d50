"""Fixtures shared by the whole suite: bundled files, and a demo-like config."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.media import DEMO
from vigil.config import ROOT, VigilConfig, load_config


@pytest.fixture
def demo_config(tmp_path: Path) -> VigilConfig:
    """The demo's settings with its store and snapshots in a fresh temporary directory."""
    config = load_config(DEMO)
    config.store.url = f"sqlite:///{tmp_path / 'vigil.db'}"
    config.store.media_dir = tmp_path / "media"
    for camera in config.cameras:
        camera.url = str(ROOT / camera.url)
    return config
