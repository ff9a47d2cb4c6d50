"""Markdown summary of `vigil bench cameras --json` output, for docs/benchmarks.md.

python bench/gpu/summarise.py cameras.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROWS = [
    ("cameras sustained (≥95 % analysed, lag < 1 s)", "cameras_sustained"),
    ("analysed frames/s", "analysed_fps"),
    ("share of frames dropped", "dropped_share"),
    ("lag p50 / p99 / max (s)", None),
    ("mean batch", "mean_batch"),
    ("least / most analysed camera", "fairness_min_max"),
    ("frames the decoders fell behind on", "frames_behind_decode"),
    ("GPU utilisation (%)", "gpu_utilisation_pct"),
    ("frames kept on the GPU from decoding", "device_frames"),
    ("… of which copied to host memory", "device_frames_copied_to_host"),
]


def cell(run: dict[str, Any], key: str | None) -> str:
    if key is None:
        return f"{run['lag_p50_s']} / {run['lag_p99_s']} / {run['lag_max_s']}"
    return str(run.get(key, "—"))


def main(path: Path) -> None:
    result = json.loads(path.read_text())
    print(f"card: {result['card']}  \nsettings: `{json.dumps(result['settings'])}`\n")
    for run in result["runs"]:
        base, new = run["baseline"], run["deadline"]
        print(f"### {run['cameras']} cameras ({run['mode']})\n")
        print("| measure | today (batch 8) | deadline scheduler |\n|---|---|---|")
        for label, key in ROWS:
            print(f"| {label} | {cell(base, key)} | {cell(new, key)} |")
        for stage in new.get("time_share", {}):
            print(
                f"| time share: {stage} | {base['time_share'][stage]} | "
                f"{new['time_share'][stage]} |"
            )
        print()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
