"""Serving: the engine, the store sink and the API in one process."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn

from vigil.config import ROOT, VigilConfig
from vigil.runtime import build_runtime, start_runtime
from vigil.vision.detector import ModelError

DEMO_CONFIG = ROOT / "examples" / "demo.yaml"
log = logging.getLogger("vigil")


def serve_config(config: VigilConfig) -> None:
    from vigil.api import create_app
    from vigil.cli.common import fail

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for camera in config.cameras:
        _warn_missing_file(camera.url)
    try:
        runtime = build_runtime(config)
    except ModelError as error:
        fail(f"{error} (the bundled models live in {ROOT / 'models'})")
    app = create_app(
        config, runtime.engine, runtime.store, runtime.media, runtime.committed, sink=runtime.sink
    )
    start_runtime(runtime)
    host, port = config.server.host, config.server.port
    log.info("Vigil is serving on http://%s:%d", host, port)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        runtime.stop()


def _warn_missing_file(url: str) -> None:
    if "://" not in url and not Path(url).exists():
        log.warning("camera source %s does not exist; the camera will report it and retry", url)
