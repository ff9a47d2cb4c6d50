"""Serving: the engine, the store sink and the API in one process.

The CLI imports this module for every command, so what only serving needs (the engine, the
API, uvicorn: seconds of imports) is imported by `serve_config` itself.
"""

from __future__ import annotations

import logging
from pathlib import Path

from vigil.config import ROOT, VigilConfig

DEMO_CONFIG = ROOT / "examples" / "demo.yaml"
log = logging.getLogger("vigil")


def serve_config(config: VigilConfig, *, demo: bool = False) -> None:
    import uvicorn

    from vigil.api import create_app
    from vigil.api.serving import listen, settle_for_serving
    from vigil.auth.secrets import SecretError
    from vigil.bus.credentials import CredentialsError
    from vigil.cli.common import fail
    from vigil.runtime import api_services, build_runtime, start_runtime
    from vigil.vision.detector import ModelError

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    host, port = config.server.host, config.server.port
    try:
        listener = listen(host, port)
    except OSError as error:
        fail(f"cannot listen on {host}:{port}: {error.strerror or error} "
             "(another server on that port? choose one with --port or server.port)")
    for camera in config.cameras:
        _warn_missing_file(camera.url)
    try:
        runtime = build_runtime(config)
    except ModelError as error:
        fail(f"{error} (the bundled models live in {ROOT / 'models'})")
    except (SecretError, CredentialsError, ConnectionRefusedError) as error:
        fail(str(error))  # a key file; NATS credentials, or NATS refusing them
    services = api_services(
        config, runtime.engine, runtime.store, runtime.media, alerts=runtime.alerts
    )
    app = create_app(
        config, runtime.engine, runtime.store, runtime.media, runtime.committed, services,
        sink=runtime.sink, demo=demo,
    )
    start_runtime(runtime)
    log.info("Vigil is serving on http://%s:%d", host, port)
    _announce_login(app, f"http://{host}:{port}", demo)
    app.state.retention.start()
    settle_for_serving()
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listener])
    finally:
        app.state.retention.stop()
        runtime.stop()


def _announce_login(app: object, url: str, demo: bool) -> None:
    """The demo prints its one-time login link; a server without users says how to create
    the first administrator (see docs/security.md, First run)."""
    from vigil.auth.demo import prepare_demo_login
    from vigil.auth.wiring import describe_first_run

    if demo:
        print(prepare_demo_login(app.state.auth, url), flush=True)  # type: ignore[attr-defined]
        return
    first_run = describe_first_run(app, url)
    if first_run:
        log.warning(first_run)


def _warn_missing_file(url: str) -> None:
    if "://" not in url and not Path(url).exists():
        log.warning("camera source %s does not exist; the camera will report it and retry", url)
