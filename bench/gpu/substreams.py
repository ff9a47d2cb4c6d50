"""Write camera sub-streams for the many-camera benchmark: 640×360 H.264 at 5 fps.

Frigate and NVIDIA both advise analysing a camera's low-resolution sub-stream; these are that,
made from the bundled clip. Each file starts at a different point of the clip, so cameras that
share a file still show different moments (each camera also has its own decoder).

    python bench/gpu/substreams.py OUT_DIR [--files 16] [--seconds 60]
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SIZE = (640, 360)
FPS = 5


def clip_frames(clip: Path) -> list[np.ndarray]:
    """The clip resampled to 5 fps and resized to 640×360 (BGR)."""
    frames: list[np.ndarray] = []
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        step = max(1, round(float(stream.average_rate or 10) / FPS))
        for index, frame in enumerate(container.decode(stream)):
            if index % step == 0:
                frames.append(cv2.resize(frame.to_ndarray(format="bgr24"), SIZE))
    return frames


def write(path: Path, frames: list[np.ndarray]) -> None:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(FPS))
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        # A keyframe every 2 s, as cameras send; no B-frames, as most camera encoders.
        stream.options = {"preset": "veryfast", "g": str(2 * FPS), "bf": "0", "crf": "28"}
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clip", type=Path, default=ROOT / "media" / "vtest.mp4")
    args = parser.parse_args()
    frames = clip_frames(args.clip)
    length = int(args.seconds * FPS)
    args.out.mkdir(parents=True, exist_ok=True)
    for n in range(args.files):
        start = n * len(frames) // args.files
        # Play forward then backward so the loop point of a long file has no jump.
        cycle = frames[start:] + frames[:start]
        cycle = cycle + cycle[::-1]
        picked = [cycle[i % len(cycle)] for i in range(length)]
        write(args.out / f"substream-{n:02d}.mp4", picked)
    print(f"{args.files} files of {length} frames, {SIZE[0]}x{SIZE[1]} at {FPS} fps in {args.out}")


if __name__ == "__main__":
    main()
