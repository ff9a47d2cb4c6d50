"""`vigil bench cameras`: how many cameras one worker sustains with lag under 1 s.

Every figure is measured twice in the same run, under today's batching (the shipped defaults:
batches of 8, no lag budget) and under the deadline scheduler with large batches, on the same
cameras, frames and detector. See docs/benchmarks.md for results and how to read them.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from vigil.cli.common import load_or_exit
from vigil.config import ROOT, CameraConfig, VigilConfig

if TYPE_CHECKING:
    from vigil.pipeline.feeds import Feed
    from vigil.vision.detector import Detector

SUBSTREAM = (640, 360)
# The demo's settings, as `vigil bench pipeline` uses (vigil.cli.serve.DEMO_CONFIG).
DEMO_CONFIG = ROOT / "examples" / "demo.yaml"


class GpuSampler:
    """GPU utilisation (%) sampled by nvidia-smi every 0.5 s; None without nvidia-smi."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._process: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None

    @contextmanager
    def running(self) -> Iterator[GpuSampler]:
        smi = shutil.which("nvidia-smi")
        if smi is not None:
            self._process = subprocess.Popen(
                [
                    smi,
                    "--query-gpu=utilization.gpu",
                    "--format=csv,noheader,nounits",
                    "-lms",
                    "500",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()
        try:
            yield self
        finally:
            if self._process is not None:
                self._process.terminate()
                self._process.wait(timeout=5)

    def mean(self) -> float | None:
        return round(sum(self.samples) / len(self.samples), 1) if self.samples else None

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            try:
                self.samples.append(float(line.split(",")[0]))
            except ValueError:
                continue


def card_name() -> str:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return f"no GPU; CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    out = subprocess.run(
        [smi, "--query-gpu=name,driver_version", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return out.stdout.strip() or "nvidia-smi gave no answer"


def make_detector(
    kind: str, config: VigilConfig, fps: float, per_call_ms: float, gpu: bool
) -> Detector:
    from vigil.bench.cameras import PacedDetector
    from vigil.vision.detector import OnnxDetector

    if kind == "fake":
        return PacedDetector(fps, per_call_ms / 1000)
    if gpu:
        from vigil.vision.torch_detector import TorchDetector

        return TorchDetector(config.detector)
    return OnnxDetector(config.detector)


def make_feeds(cameras: int, videos: Path | None, gpu: bool, fps: float, clip: Path) -> list[Feed]:
    from vigil.pipeline.feeds import SourceFeed, SyntheticFeed, decode_clip
    from vigil.sources.base import SourceOptions
    from vigil.sources.factory import create_source

    if videos is None:
        frames = decode_clip(clip, SUBSTREAM)
        return [SyntheticFeed(frames, start=i * 7) for i in range(cameras)]
    files = sorted(videos.glob("*.mp4"))
    if not files:
        raise typer.BadParameter(f"no .mp4 files in {videos}", param_hint="--videos")
    options = SourceOptions(analysis_fps=fps, loop=True, hardware_decode=gpu)
    return [SourceFeed(create_source(str(files[i % len(files)]), options)) for i in range(cameras)]


def camera_template(config: VigilConfig, clip: Path) -> CameraConfig:
    """The first configured camera's modules and geometry, as every benchmark camera's."""
    if config.cameras:
        return config.cameras[0].model_copy(update={"enabled": True})
    return CameraConfig(id="bench", url=str(clip))


def cameras(
    count: Annotated[
        list[int],
        typer.Option("--cameras", help="Camera counts to try (repeat the option for several)"),
    ] = [1000],  # noqa: B006
    fps: Annotated[float, typer.Option(help="Analysed frames per second per camera")] = 5.0,
    seconds: Annotated[float, typer.Option(help="Measured seconds per run")] = 20.0,
    warmup: Annotated[float, typer.Option(help="Seconds before measuring")] = 5.0,
    detector: Annotated[
        str,
        typer.Option(
            help="'fake' (a stand-in of known speed) or 'model' (the configured detector)"
        ),
    ] = "fake",
    detector_fps: Annotated[
        float, typer.Option(help="Fake detector: frames per second it serves")
    ] = 2500.0,
    per_call_ms: Annotated[
        float, typer.Option(help="Fake detector: fixed cost of each call (GPU launch)")
    ] = 0.0,
    videos: Annotated[
        Path | None,
        typer.Option(
            help="Folder of .mp4 sub-streams to decode (default: frames decoded once, copied)"
        ),
    ] = None,
    gpu: Annotated[
        bool,
        typer.Option(
            "--gpu", help="Detector on CUDA in fp16 (PyTorch) and hardware decoding of --videos"
        ),
    ] = False,
    batch: Annotated[int, typer.Option(help="Largest batch of the deadline scheduler")] = 256,
    max_wait_ms: Annotated[float, typer.Option(help="Longest wait to fill a batch")] = 50.0,
    max_lag_ms: Annotated[
        float, typer.Option(help="Lag budget of the deadline scheduler")
    ] = 1000.0,
    decode_threads: Annotated[int, typer.Option(help="Threads that decode the cameras")] = 8,
    shards: Annotated[
        int,
        typer.Option(
            min=1,
            help="Also run the deadline scheduler with the cameras split over this many "
            "processes, each with its own fake detector (cluster/shards.py)",
        ),
    ] = 1,
    high_priority: Annotated[
        int,
        typer.Option(
            min=0,
            help="With --simulate: give the first N cameras priority 1 (load shedding slows "
            "the others first) and report how many of them are sustained",
        ),
    ] = 0,
    simulate_only: Annotated[
        bool,
        typer.Option(
            "--simulate", help="Only the simulated-time model of the fake detector (seconds to run)"
        ),
    ] = False,
    config: Annotated[
        Path, typer.Option(help="Settings (modules of the first camera apply)")
    ] = DEMO_CONFIG,
    clip: Annotated[Path, typer.Option(help="Clip for synthetic frames")] = ROOT
    / "media"
    / "vtest.mp4",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Cameras sustained with lag < 1 s, frames/s and time per stage, today's batching vs the
    deadline scheduler."""
    from vigil.bench.cameras import (
        LoadSettings,
        baseline_batcher,
        camera_ids,
        deadline_batcher,
        run_load,
    )
    from vigil.bench.sharded import ShardJob, run_sharded_load
    from vigil.pipeline.simulation import (
        BASELINE,
        DetectorModel,
        Policy,
        simulate,
        sustained_among,
    )

    if detector not in ("fake", "model"):
        raise typer.BadParameter("must be 'fake' or 'model'", param_hint="--detector")
    if shards > 1 and (detector != "fake" or videos is not None or simulate_only):
        raise typer.BadParameter(
            "sharded runs use the fake detector on synthetic frames in real time",
            param_hint="--shards",
        )
    settings = load_or_exit(config)
    deadline = Policy(
        batch, max_wait_ms / 1000, settings.batching.queue_per_camera, max_lag_ms / 1000
    )
    result: dict[str, Any] = {"card": card_name(), "runs": []}
    if simulate_only:
        model = DetectorModel(detector_fps, per_call_ms / 1000)
        priorities = [1] * high_priority
        for n in count:
            runs = {}
            for name, policy in (("baseline", BASELINE), ("deadline", deadline)):
                # Today's batcher has no priorities: only the deadline scheduler sheds by them.
                chosen = priorities if name == "deadline" else []
                summary, loads = simulate(
                    n, fps, model, policy, seconds=seconds, warmup_s=warmup, priorities=chosen
                )
                runs[name] = _rounded(summary)
                if high_priority:
                    runs[name]["high_priority_sustained"] = sustained_among(
                        loads, camera_ids(min(n, high_priority))
                    )
            result["runs"].append({"cameras": n, "mode": "simulated time", **runs})
    else:
        template = camera_template(settings, clip)
        found = make_detector(detector, settings, detector_fps, per_call_ms, gpu)
        for n in count:
            load = LoadSettings(n, fps, seconds, warmup, decode_threads)
            run: dict[str, Any] = {"cameras": n, "mode": "real time"}
            for name in ("baseline", "deadline"):
                batcher = (
                    baseline_batcher()
                    if name == "baseline"
                    else deadline_batcher(batch, max_wait_ms, max_lag_ms)
                )
                feeds = make_feeds(n, videos, gpu, fps, clip)
                with GpuSampler().running() as sampler:
                    run[name] = run_load(load, batcher, feeds, found, template, settings.tracker)
                run[name]["gpu_utilisation_pct"] = sampler.mean()
            if shards > 1:
                job = ShardJob(load, template, settings.tracker, detector_fps,
                               per_call_ms / 1000, batch, max_wait_ms, max_lag_ms, clip)
                run["sharded"] = {"processes": shards, **run_sharded_load(job, shards)}
            result["runs"].append(run)
    result["settings"] = {
        "fps": fps,
        "seconds": seconds,
        "detector": detector,
        "detector_fps": detector_fps,
        "per_call_ms": per_call_ms,
        "gpu": gpu,
        "videos": str(videos) if videos else "synthetic",
        "batch": batch,
        "max_lag_ms": max_lag_ms,
        "shards": shards,
        "high_priority": high_priority,
    }
    if as_json:
        typer.echo(json.dumps(result))
        return
    print_table(result)


def print_table(result: dict[str, Any]) -> None:
    console = Console()
    for run in result["runs"]:
        table = Table(
            "measure",
            "today (batch 8)",
            "deadline scheduler",
            title=f"vigil bench cameras — {run['cameras']} cameras, {run['mode']}",
        )
        base, new = run["baseline"], run["deadline"]
        keys = [
            "cameras_sustained",
            "analysed_fps",
            "dropped_share",
            "lag_p50_s",
            "lag_p99_s",
            "lag_max_s",
            "mean_batch",
            "fairness_min_max",
        ]
        if "time_share" in base:
            keys += [
                "frames_behind_decode",
                "gpu_utilisation_pct",
                "device_frames",
                "device_frames_copied_to_host",
            ]
        if "high_priority_sustained" in base:
            keys.append("high_priority_sustained")
        for key in keys:
            table.add_row(key, _shown(base.get(key)), _shown(new.get(key)))
        if "time_share" in base:
            for stage in base["time_share"]:
                table.add_row(
                    f"time share: {stage}",
                    str(base["time_share"][stage]),
                    str(new["time_share"][stage]),
                )
        console.print(table)
        if "sharded" in run:
            sharded = run["sharded"]
            console.print(
                f"deadline scheduler in {sharded['processes']} processes: "
                f"{sharded['cameras_sustained']} cameras sustained, "
                f"{sharded['analysed_fps']} frames/s, lag max {sharded['lag_max_s']} s, "
                f"time share {sharded['time_share']}"
            )
    console.print(f"[dim]{result['card']}; {result['settings']}[/]")


def _rounded(summary: Any) -> dict[str, Any]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(summary).items()}


def _shown(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) and abs(value) < 1000 else str(value)
