"""`vigil bench`: measured, never guessed; every figure is a ratio to a baseline of the same run."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from vigil.cli.common import load_or_exit
from vigil.cli.serve import DEMO_CONFIG
from vigil.config import ROOT

app = typer.Typer(help="Benchmarks (results belong in docs/benchmarks.md).", no_args_is_help=True)


@app.command("pipeline")
def pipeline(
    video: Annotated[Path, typer.Option(help="Clip to analyse")] = ROOT / "media" / "vtest.mp4",
    config: Annotated[
        Path, typer.Option(help="Settings (zones, lines, modules of the first camera apply)")
    ] = DEMO_CONFIG,
    batch: Annotated[int | None, typer.Option(help="Frames per inference call")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """End-to-end analysed frames/s against detector-only frames/s on the same frames."""
    from vigil.bench.pipeline import bench_pipeline

    settings = load_or_exit(config)
    if batch:
        settings.batching.max_batch = batch
    result = bench_pipeline(video, settings)
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table("measure", "value", title=f"vigil bench pipeline — {video.name}")
    for key in ("frames", "batch", "detector_only_fps", "pipeline_fps", "ratio"):
        table.add_row(key, str(result[key]))
    table.add_row("events", json.dumps(result["events"]))
    Console().print(table)


@contextmanager
def step_bars(*, disable: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """Progress bars on stderr, one per labelled step; yields `update(label, done, total)`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        disable=disable,
    ) as progress:
        tasks: dict[str, Any] = {}

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = progress.add_task(label, total=total)
            progress.update(tasks[label], completed=done, total=total)

        yield update


@app.command("search")
def search(
    events: Annotated[int, typer.Option(help="Synthetic events to search over")] = 100_000,
    repeat: Annotated[int, typer.Option(help="Runs of each benchmark query")] = 5,
    data: Annotated[
        Path, typer.Option(help="Where the synthetic data set is built once and reused")
    ] = Path("data/bench"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Search latency (p50/p95) over N synthetic events, against brute-force numpy."""
    from vigil.bench.search import run_bench

    with step_bars() as update:
        result = run_bench(events, data, repeat, update)
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(
        "",
        "p50 ms",
        "p95 ms",
        "max ms",
        title=f"vigil bench search — {events:,} events, "
        f"{result['distinct_captions']:,} distinct captions",
    )
    for key in ("vigil", "brute_force_numpy"):
        row = result[key]
        table.add_row(key, str(row["p50_ms"]), str(row["p95_ms"]), str(row["max_ms"]))
    Console().print(table)
    Console().print(f"[dim]{result['machine']}; {result['queries']} queries x {repeat}[/]")


@app.command("ingest")
def ingest(
    events: Annotated[
        int, typer.Option(help="Synthetic events (each a start and an end message)")
    ] = 300_000,
    nats: Annotated[
        str | None,
        typer.Option(help="NATS server(s) to use (default: a throwaway server on loopback)"),
    ] = None,
    postgres: Annotated[
        str | None,
        typer.Option(
            help="PostgreSQL URL to use, in two scratch schemas (default: a throwaway server)"
        ),
    ] = None,
    cameras: Annotated[int, typer.Option(help="Cameras the events come from")] = 200,
    lag: Annotated[
        int, typer.Option(help="Events published between an event's start and its end")
    ] = 20_000,
    batch: Annotated[int, typer.Option(help="Sink batch size, and rows per raw COPY")] = 5_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Events/s through bus → store sink → PostgreSQL, against raw binary COPY of the same rows."""
    from vigil.bench.ingest import IngestSettings, run_ingest

    settings = IngestSettings(events=events, cameras=cameras, lag=lag, batch=batch)
    with step_bars(disable=as_json) as update:
        result = run_ingest(settings, nats, postgres, update)
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(
        "measure",
        "value",
        title=f"vigil bench ingest — {events:,} events "
        f"({2 * events:,} bus messages), {cameras} cameras",
    )
    table.add_row("publish (events/s)", f"{result['publish_events_per_s']:,}")
    table.add_row(
        "end to end: bus → sink → PostgreSQL (events/s)", f"{result['end_to_end_events_per_s']:,}"
    )
    table.add_row("end to end (events/min)", f"{result['end_to_end_events_per_min']:,}")
    table.add_row(
        "raw binary COPY of the same rows (events/s)", f"{result['raw_copy_events_per_s']:,}"
    )
    table.add_row("ratio end to end / raw COPY", str(result["ratio"]))
    for part, micros in result["cpu_us_per_event"].items():
        table.add_row(f"CPU during the full path, {part} (µs/event)", f"{micros:,}")
    for side, size in result["stored_bytes_per_event"].items():
        table.add_row(f"events table on disk, {side} (bytes/event)", f"{size:,}")
    Console().print(table)
    Console().print(
        f"[dim]{result['machine']}; sink batches {result['sink_batches']}, "
        f"sink errors {result['sink_errors']}[/]"
    )
