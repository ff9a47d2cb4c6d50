"""`vigil analyze`: one recording through the whole pipeline, as fast as the machine allows."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import av
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from vigil.config import CameraConfig, VigilConfig
from vigil.pipeline.local_engine import LocalEngine
from vigil.runtime import build_runtime


class UnreadableVideo(ValueError):
    """The file is not a video FFmpeg can read."""


def probe(video: Path) -> tuple[float, int | None]:
    """The video's frame rate and its frame count when the container knows it."""
    try:
        container = av.open(str(video))
    except av.FFmpegError as error:
        raise UnreadableVideo(f"cannot read video {video}: {error}") from None
    if not container.streams.video:
        container.close()
        raise UnreadableVideo(f"{video} has no video stream")
    with container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or stream.base_rate or 25)
        frames = stream.frames or (
            int(float(stream.duration * stream.time_base) * rate)
            if stream.duration and stream.time_base
            else None
        )
    return rate, frames


def analyze_video(
    video: Path, config: VigilConfig | None, fps: float | None, keep: Path | None = None
) -> dict[str, Any]:
    config = config or VigilConfig()
    native_fps, total = probe(video)
    template = config.cameras[0] if config.cameras else None
    rate = min(60.0, fps or (template.analysis_fps if template else native_fps))
    camera = CameraConfig.model_validate(
        {
            **(template.model_dump() if template else {"id": "video"}),
            "url": str(video),
            "analysis_fps": rate,
            "loop": False,
            "start_offset_s": 0.0,
        }
    )
    expected = round(total * min(1.0, rate / native_fps)) if total else None
    with tempfile.TemporaryDirectory(prefix="vigil-analyze-") as scratch:
        where = keep or Path(scratch)
        settings = config.model_copy(update={"cameras": [camera]})
        settings.store.url = f"sqlite:///{where / 'vigil.db'}"
        settings.store.media_dir = where / "media"
        runtime = build_runtime(settings, offline=True)
        engine = runtime.engine
        assert isinstance(engine, LocalEngine)  # offline analysis never runs as a cluster
        started = time.perf_counter()
        engine.start([camera])
        with _progress() as progress:
            task = progress.add_task(f"analysing {video.name}", total=expected)
            engine.wait_until_done(lambda done: progress.update(task, completed=done))
        seconds = time.perf_counter() - started
        status = engine.status(camera.id)
        frames = engine.frames_analysed()
        tracks, events = engine.tracks_by_class(), engine.events_by_module()
        runtime.stop()
        snapshots = engine.output.snapshots
    return {
        "video": str(video),
        "frames": frames,
        "analysis_fps": rate,
        "tracks": tracks,
        "events": events,
        "snapshots": snapshots,
        "seconds": round(seconds, 3),
        "frames_per_second": round(frames / seconds, 2) if seconds else 0.0,
        "error": status.last_error if status else None,
    }


def print_summary(summary: dict[str, Any]) -> None:
    console = Console()
    console.print(
        f"[bold]{summary['video']}[/]: {summary['frames']} frames in "
        f"{summary['seconds']} s ({summary['frames_per_second']} frames/s)"
    )
    if summary.get("error"):
        console.print(f"[red]error:[/] {summary['error']}")
    table = Table("class", "tracks", title="Tracks")
    for name, count in sorted(summary["tracks"].items(), key=lambda kv: -kv[1]):
        table.add_row(name, str(count))
    console.print(table)
    table = Table("module", "events", title="Events")
    for name, count in sorted(summary["events"].items()):
        table.add_row(name, str(count))
    console.print(table)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
