"""`vigil`: run the demo or a server, analyse a recording, query a running server, benchmark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli import audit, bench, cluster, remote, search, users
from vigil.cli import export as export_cli
from vigil.cli.common import fail, load_or_exit
from vigil.cli.serve import DEMO_CONFIG, serve_config
from vigil.config import ROOT

app = typer.Typer(
    name="vigil",
    help="Vigil: open video intelligence for cities, without biometric identification.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(remote.cameras, name="cameras")
app.add_typer(bench.app, name="bench")
app.add_typer(users.app, name="users")
app.add_typer(audit.app, name="audit")
app.add_typer(export_cli.app, name="export")
app.add_typer(search.app, name="search")
app.add_typer(cluster.app, name="cluster")
app.command("worker")(cluster.worker)
modules_app = typer.Typer(help="Analytics modules.", no_args_is_help=True)
app.add_typer(modules_app, name="modules")
app.command("events")(remote.events)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port of the web UI and API")] = 8080,
    data: Annotated[
        Path, typer.Option(help="Where the demo keeps its database and snapshots")
    ] = Path("data/demo"),
) -> None:
    """Run the demo: three cameras replaying the bundled street clip, web UI on 127.0.0.1."""
    config = load_or_exit(DEMO_CONFIG)
    for camera in config.cameras:  # the bundled clip, wherever the demo is started from
        camera.url = str(ROOT / camera.url)
    config.server.port = port
    config.store.url = f"sqlite:///{data / 'vigil.db'}"
    config.store.media_dir = data / "media"
    serve_config(config, demo=True)


@app.command()
def serve(
    config: Annotated[Path, typer.Option("--config", "-c", help="YAML config file")],
    host: Annotated[str | None, typer.Option(help="Override server.host")] = None,
    port: Annotated[int | None, typer.Option(help="Override server.port")] = None,
    demo_login: Annotated[
        bool,
        typer.Option(help="Print a one-time login link usable from this machine (local demos)"),
    ] = False,
) -> None:
    """Serve the API and web UI and analyse every camera of a config file (with bus.url set,
    serve a cluster's API: workers analyse the cameras)."""
    settings = load_or_exit(config)
    if host:
        settings.server.host = host
    if port:
        settings.server.port = port
    serve_config(settings, demo=demo_login)


@app.command()
def analyze(
    video: Annotated[Path, typer.Argument(help="Video file to analyse (any format FFmpeg reads)")],
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Settings; the first camera's zones, lines and modules are applied to the video",
        ),
    ] = None,
    fps: Annotated[
        float | None,
        typer.Option(help="Frames analysed per second (default: the camera's, else all)"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout")
    ] = False,
    keep: Annotated[
        Path | None,
        typer.Option(help="Keep the events database and snapshots in this directory"),
    ] = None,
) -> None:
    """Analyse a recording as fast as the machine allows; summary of tracks and events."""
    from vigil.cli.analyze import UnreadableVideo, analyze_video

    if not video.is_file():
        fail(f"no such video file: {video}")
    try:
        summary = analyze_video(video, load_or_exit(config) if config else None, fps, keep)
    except UnreadableVideo as error:
        fail(str(error))
    if summary["frames"] == 0:
        fail(f"no frame of {video} could be analysed: {summary['error'] or 'empty video'}")
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        from vigil.cli.analyze import print_summary

        print_summary(summary)
    if summary["error"]:
        # Part of the video was analysed, but the error printed above (a truncated file, say)
        # must fail a script that runs this, not pass unnoticed.
        raise typer.Exit(1)


@app.command("check-config")
def check_config(config: Annotated[Path, typer.Argument(help="YAML config file")]) -> None:
    """Validate a config file and report every problem with its key path."""
    settings = load_or_exit(config)
    typer.echo(f"{config}: OK ({len(settings.cameras)} camera(s))")


@modules_app.command("list")
def modules_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print the registry as JSON")] = False,
) -> None:
    """Every analytics module with its description and settings schema."""
    from vigil.modules.registry import describe_modules

    described = describe_modules()
    if as_json:
        typer.echo(json.dumps(described, indent=2))
        return
    for module in described:
        keys = ", ".join(module["settings_schema"].get("properties", {}))
        typer.echo(f"{module['name']:<12} {module['description']}\n{'':<12} settings: {keys}")


@app.command()
def schema() -> None:
    """Print the event JSON Schema."""
    from vigil.domain.events import event_json_schema

    typer.echo(json.dumps(event_json_schema(), indent=2))
