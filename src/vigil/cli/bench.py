"""`vigil bench`: measured, never guessed; every figure is a ratio to a baseline of the same run."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from vigil.cli import bench_cameras
from vigil.cli.common import load_or_exit
from vigil.cli.serve import DEMO_CONFIG
from vigil.config import ROOT

app = typer.Typer(help="Benchmarks (results belong in docs/benchmarks.md).", no_args_is_help=True)
app.command("cameras")(bench_cameras.cameras)


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


@app.command("fanout")
def fanout(
    subscribers: Annotated[int, typer.Option(help="Concurrent SSE subscribers")] = 10_000,
    cameras: Annotated[int, typer.Option(help="Cameras the events come from")] = 1_000,
    rate: Annotated[float, typer.Option(help="Events published per second")] = 200.0,
    watched: Annotated[int, typer.Option(help="Cameras each subscriber watches")] = 10,
    duration: Annotated[float, typer.Option(help="Seconds of publishing per run")] = 30.0,
    processes: Annotated[int, typer.Option(help="Subscriber processes")] = 4,
    baseline: Annotated[
        int | None,
        typer.Option(
            help="Subscribers of the baseline run (default: as many as --subscribers; 0: none)"
        ),
    ] = None,
    step: Annotated[
        list[int] | None,
        typer.Option(help="Further subscriber counts to run the fan-out at (repeat the option)"),
    ] = None,
    streaming: Annotated[
        int,
        typer.Option(
            help="Subscribers of a run of the fan-out's previous write path "
            "(StreamingResponse per connection); 0: no such run"
        ),
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Publish-to-receipt delay of live events to many SSE subscribers of one API node (fan-out
    against the per-connection baseline), memory per idle connection, API-node CPU."""
    from vigil.bench.fanout.run import FanoutSettings, run_fanout

    settings = FanoutSettings(
        subscribers=subscribers,
        cameras=cameras,
        rate=rate,
        watched=watched,
        duration_s=duration,
        processes=processes,
        baseline_subscribers=baseline,
        steps=tuple(step or ()),
        streaming_subscribers=streaming,
    )
    console = Console(stderr=True)
    result = run_fanout(settings, lambda text: console.print(f"[dim]{text}[/]"))
    if as_json:
        typer.echo(json.dumps(result))
        return
    keys = [
        "subscribers",
        "connected",
        "p50_ms",
        "p99_ms",
        "max_ms",
        "events_lost",
        "subscribers_told_missed",
        "idle_kib_per_connection",
        "node_cpu_cores",
        "meets_target",
    ]
    table = Table(
        "run",
        *keys,
        title=f"vigil bench fanout — {cameras:,} cameras, {rate:g} "
        f"events/s, {watched} cameras each, {duration:g} s",
    )
    for run in result["runs"]:
        table.add_row(
            run["mode"],
            *(
                f"{run[key]:,}"
                if isinstance(run[key], int) and not isinstance(run[key], bool)
                else str(run[key])
                for key in keys
            ),
        )
    Console().print(table)
    Console().print(
        f"[dim]{result['machine']}; largest fan-out count meeting p99 < 1 s with "
        f"no loss: {result['largest_passing_fanout']}[/]"
    )


@app.command("api")
def api(
    events: Annotated[
        int, typer.Option(help="Stored events (seeded once, then reused)")
    ] = 1_000_000,
    clients: Annotated[int, typer.Option(help="Concurrent clients")] = 50,
    duration: Annotated[float, typer.Option(help="Seconds of load")] = 30.0,
    processes: Annotated[int, typer.Option(help="Client processes")] = 2,
    store: Annotated[
        str | None,
        typer.Option(
            help="Store URL (default: a SQLite file under --data; a postgresql:// URL is seeded "
            "the same way; 'postgres': a throwaway PostgreSQL server on loopback)"
        ),
    ] = None,
    data: Annotated[Path, typer.Option(help="Where the seeded SQLite store is kept")] = Path(
        "data/bench-api"
    ),
    workers: Annotated[
        list[int] | None,
        typer.Option(
            help="API processes sharing the node's port (SO_REUSEPORT); repeat the option for "
            "one load run per count, in the same run (default 1)"
        ),
    ] = None,
    kinds: Annotated[
        list[str] | None,
        typer.Option(
            "--kinds",
            help="Requests of the mix: 'events', 'counts', 'search', 'all' or single kinds "
            "(events_page, search_camera_day, …); repeat the option or separate by commas "
            "(default all)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Event pages, counts and search under concurrent clients over a large stored set:
    p50/p99 per request kind and requests/s, through the whole API stack on a real server.
    The search index is built once beside the seeded store and reused."""
    from vigil.bench.api.load import kinds_of
    from vigil.bench.api.run import ApiSettings, run_api

    try:
        mix = kinds_of([name.strip() for value in kinds or ["all"] for name in value.split(",")])
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--kinds") from None
    if not mix:
        raise typer.BadParameter("name at least one kind", param_hint="--kinds")
    data.mkdir(parents=True, exist_ok=True)
    settings = ApiSettings(
        events=events,
        clients=clients,
        processes=processes,
        duration_s=duration,
        workers=tuple(workers or (1,)),
        kinds=mix,
    )
    with ExitStack() as stack:
        if store == "postgres":
            from vigil.bench.api.run import throwaway_postgres

            url = stack.enter_context(throwaway_postgres())
        else:
            url = store or f"sqlite:///{(data / f'events-{events}.db').resolve()}"
        with step_bars(disable=as_json) as update:
            result = run_api(settings, url, data / "media", update)
    if as_json:
        typer.echo(json.dumps(result))
        return
    for run in result["runs"]:
        table = Table(
            "request",
            "requests",
            "p50 ms",
            "p99 ms",
            "store alone, p50 ms",
            "with hits",
            title=f"vigil bench api — {events:,} events ({result['store']}), "
            f"{clients} clients, {duration:g} s, {run['workers']} API process(es)",
        )
        for kind, row in run["kinds"].items():
            table.add_row(
                kind,
                f"{row['requests']:,}",
                str(row["p50_ms"]),
                str(row["p99_ms"]),
                str(result["store_only_p50_ms"].get(kind, "")),
                f"{row['with_hits']:.1%}" if "with_hits" in row else "",
            )
        Console().print(table)
        Console().print(
            f"[dim]{run['requests_per_s']} requests/s, node CPU "
            f"{run['node_cpu_ms_per_request']} ms/request, load average {run['load_average']}; "
            f"statuses {run['statuses']}[/]"
        )
        if run["searches_with_hits"] is not None:
            Console().print(f"searches with at least one hit: {run['searches_with_hits']:.1%}")
    from_events = result["store_only_p50_ms"].get("counts_day_from_events")
    Console().print(
        f"[dim]{result['machine']}"
        + (f"; counts of a camera's day from the events alone: {from_events} ms (p50)"
           if from_events is not None else "")
        + "[/]"
    )
    index = result["search_index"]
    if index is not None:
        Console().print(
            f"[dim]search index {index['path']}: {index['events']:,} events, "
            f"{index['captions']:,} distinct captions (ready in {index['build_s']} s)[/]"
        )


@app.command("record")
def record(
    video: Annotated[Path, typer.Option(help="Clip to record and play back")] = ROOT
    / "media"
    / "vtest.mp4",
    playback_s: Annotated[float, typer.Option(help="Seconds of blurred playback to time")] = 10.0,
    export_s: Annotated[float, typer.Option(help="Seconds of recording to export")] = 60.0,
    segment_s: Annotated[float, typer.Option(help="recording.segment_s")] = 4.0,
    commit_s: Annotated[
        float, typer.Option(help="Seconds of segments made durable and indexed together")
    ] = 8.0,
    cameras: Annotated[
        int, typer.Option(min=1, max=256, help="Cameras sharing one writer, for the second figure")
    ] = 16,
    shown_fps: Annotated[
        float, typer.Option(min=0.5, max=25, help="Frames a second of the second playback figure")
    ] = 5.0,
    repeat: Annotated[
        int,
        typer.Option(
            min=1,
            max=20,
            help="Decoding and recording measured this many times, "
            "interleaved; the least CPU of each is kept",
        ),
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Recording cost against decoding, blurred playback against real time, export time."""
    from vigil.bench.record import run_record_bench

    with step_bars(disable=as_json) as update:
        result = run_record_bench(
            video,
            playback_s=playback_s,
            export_s=export_s,
            segment_s=segment_s,
            commit_s=commit_s,
            cameras=cameras,
            shown_fps=shown_fps,
            repeat=repeat,
            progress=update,
        )
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(
        "measure",
        "value",
        title=f"vigil bench record — {result['video']}, "
        f"{result['frames']} frames at {result['clip_fps']} fps",
    )
    table.add_row("decode every frame (CPU s)", str(result["decode_cpu_s"]))
    table.add_row("remux + seal + write + index (CPU s)", str(result["record_cpu_s"]))
    table.add_row("recording cost / decoding cost", str(result["record_over_decode"]))
    table.add_row(
        f"… with {result['cameras_on_one_writer']} cameras on one writer",
        str(result["record_over_decode_shared_writer"]),
    )
    table.add_row(
        "… both without the demux a running camera does once for both",
        f"{result['record_over_decode_without_demux']} / "
        f"{result['record_over_decode_shared_writer_without_demux']}",
    )
    table.add_row(
        f"cameras recorded per camera decoded (alone / {result['cameras_on_one_writer']} on "
        "one writer)",
        f"{result['cameras_recorded_per_camera_decoded']} / "
        f"{result['cameras_recorded_per_camera_decoded_shared_writer']}",
    )
    table.add_row("stored (MB per camera-day)", str(result["stored_mb_per_camera_day"]))
    for label, figures in (
        ("every frame", result["playback_every_frame"]),
        (f"{result['playback_shown_fps']:g} fps", result["playback_at_shown_fps"]),
    ):
        table.add_row(f"blurred playback, {label}: × real time", str(figures["realtime"]))
        table.add_row(
            f"blurred playback, {label}: × real time per free core",
            str(figures["realtime_per_core"]),
        )
    table.add_row(
        f"export of {result['export_range_s']:g} s (wall s)", str(result["export_wall_s"])
    )
    Console().print(table)
    Console().print(f"[dim]{result['machine']}[/]")
