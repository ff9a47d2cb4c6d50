"""Caption vectors of the synthetic test corpus, kept in tests/search/data so that tests do not
spend a minute embedding the same captions on every run.

A text missing from the cache is embedded with the real model (slower, still correct). Set
VIGIL_REFRESH_EMBEDDINGS=1 to write the cache anew from what a test run embedded (after a
caption format change); the file holds exactly the texts of that run.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from vigil.search.embedding import MiniLM, default_embedder

CACHE = Path(__file__).resolve().parent / "data" / "caption-vectors.npz"


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class CachedEmbedder:
    def __init__(self, inner: MiniLM | None = None, path: Path = CACHE) -> None:
        self.inner = inner or default_embedder()
        self.name = self.inner.name
        self.dim = self.inner.dim
        self.path = path
        self.refresh = os.environ.get("VIGIL_REFRESH_EMBEDDINGS") == "1"
        self._lock = threading.Lock()
        self._vectors: dict[str, np.ndarray] = {}
        self._used: dict[str, np.ndarray] = {}
        self.misses = 0
        if path.exists() and not self.refresh:
            data = np.load(path, allow_pickle=False)
            if str(data["model"]) == self.name:
                keys = [str(k) for k in data["keys"]]
                vectors = data["vectors"].astype(np.float32)
                self._vectors = dict(zip(keys, vectors, strict=True))

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        missing = []
        with self._lock:
            for i, text in enumerate(texts):
                vector = self._vectors.get(_key(text))
                if vector is None:
                    missing.append(i)
                else:
                    out[i] = vector
                    self._used[_key(text)] = vector
        if missing:
            vectors = self.inner.embed([texts[i] for i in missing])
            with self._lock:
                self.misses += len(missing)
                for i, vector in zip(missing, vectors, strict=True):
                    out[i] = vector
                    self._vectors[_key(texts[i])] = vector
                    self._used[_key(texts[i])] = vector
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def save_if_refreshing(self) -> None:
        if not self.refresh:
            return
        keys = sorted(self._used)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(self.path, model=self.name, keys=np.array(keys),
                            vectors=np.stack([self._used[k] for k in keys]).astype(np.float16))
