"""Text embedding with the bundled all-MiniLM-L6-v2 ONNX graph: onnxruntime + `tokenizers`.

The graph (tools/convert_minilm.py) contains the whole sentence-transformers pipeline: BERT,
mean pooling over real tokens and L2 normalisation, so a row of the output is a unit vector and
a dot product is the cosine similarity. No PyTorch at run time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import numpy as np

from vigil.config import ROOT

MODELS = ROOT / "models"
MODEL_FILE = MODELS / "minilm-l6-v2-int8.onnx"
TOKENIZER_FILE = MODELS / "minilm-l6-v2.tokenizer.json"
MODEL_NAME = "minilm-l6-v2-int8"
DIM = 384
MAX_TOKENS = 256  # the model's max_seq_length
BATCH = 64


class EmbeddingError(RuntimeError):
    """The embedding model or its tokenizer cannot be loaded."""


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """float32 [len(texts), dim], unit rows."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """A search query's vector, float32 [dim]. Apart from `embed` because an embedder may
        treat queries differently from captions (the benchmark's never answers a query from
        its cache)."""
        ...


class MiniLM:
    """all-MiniLM-L6-v2 on onnxruntime; thread-safe; loads on first use."""

    def __init__(
        self,
        model: Path = MODEL_FILE,
        tokenizer: Path = TOKENIZER_FILE,
        *,
        threads: int = 0,
        cache_size: int = 2048,
    ) -> None:
        self.model_path = model
        self.tokenizer_path = tokenizer
        self.name = MODEL_NAME if model == MODEL_FILE else model.stem
        self.dim = DIM
        self.threads = threads
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._session: object | None = None
        self._tokenizer: object | None = None
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    def _load(self) -> tuple[object, object]:
        with self._load_lock:
            return self._load_once()

    def _load_once(self) -> tuple[object, object]:
        if self._session is not None and self._tokenizer is not None:
            return self._session, self._tokenizer
        for path in (self.model_path, self.tokenizer_path):
            if not path.is_file():
                raise EmbeddingError(
                    f"{path} is missing; it is bundled in models/ (rebuild it with "
                    "python tools/convert_minilm.py)"
                )
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as error:  # pragma: no cover - both are dependencies
            raise EmbeddingError(f"search needs onnxruntime and tokenizers: {error}") from None
        tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        # Spinning threads would burn a core between queries.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(
            str(self.model_path), options, providers=["CPUExecutionProvider"]
        )
        self._session, self._tokenizer = session, tokenizer
        return session, tokenizer

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing: list[int] = []
        with self._lock:
            for i, text in enumerate(texts):
                cached = self._cache.get(text)
                if cached is None:
                    missing.append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = cached
        if missing:
            unique = list(dict.fromkeys(texts[i] for i in missing))
            vectors = self._run(unique)
            by_text = dict(zip(unique, vectors, strict=True))
            with self._lock:
                for text, vector in by_text.items():
                    self._cache[text] = vector
                    if len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
            for i in missing:
                out[i] = by_text[texts[i]]
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def _run(self, texts: list[str]) -> np.ndarray:
        session, tokenizer = self._load()
        chunks = []
        # Sorted by length so each batch pads little; the rows go back in order after.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH):
            batch = [texts[i] for i in order[start : start + BATCH]]
            encodings = tokenizer.encode_batch(batch)  # type: ignore[attr-defined]
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            result = session.run(  # type: ignore[attr-defined]
                ["embedding"], {"input_ids": ids, "attention_mask": mask}
            )[0]
            chunks.append(np.asarray(result, dtype=np.float32))
        vectors = np.concatenate(chunks) if chunks else np.zeros((0, self.dim), np.float32)
        result_rows = np.empty_like(vectors)
        result_rows[np.array(order, dtype=np.int64)] = vectors
        return result_rows


_default: MiniLM | None = None
_default_lock = threading.Lock()


def default_embedder() -> MiniLM:
    """One shared model per process (about 100 MB with its session)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = MiniLM()
        return _default
