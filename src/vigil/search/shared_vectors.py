"""An embedder that shares its vectors through the event store.

Each API node of a cluster keeps its own search index and indexes every committed event, so
without sharing every node would run the sentence model on every new caption, and a new node
would spend over ten minutes (177k captions on two cores) embedding what the others embedded
long ago. `SharedVectors` looks the captions up in the store's `caption_vectors` table first
and runs the model only on those nobody embedded yet, writing their vectors back for the
others. Rows are keyed by model and a digest of the text; no text or event id is kept.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable

import numpy as np
import sqlalchemy as sa

from vigil.domain.frames import now_ms
from vigil.search.embedding import Embedder
from vigil.store.db import dialect_insert
from vigil.store.schema import caption_vectors

log = logging.getLogger(__name__)
_LOOKUP_CHUNK = 500


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SharedVectors:
    """`inner` with the store's `caption_vectors` table in front of it."""

    def __init__(self, inner: Embedder, engine: sa.Engine,
                 clock: Callable[[], int] = now_ms) -> None:
        self.inner = inner
        self.engine = engine
        self.clock = clock
        self.name = inner.name
        self.dim = inner.dim
        self.embedded = 0  # texts this node ran the model on
        self.shared = 0  # texts whose vectors came from the store

    def embed(self, texts: list[str]) -> np.ndarray:
        digests = [digest(text) for text in texts]
        try:
            found = self._lookup(set(digests))
        except sa.exc.SQLAlchemyError as error:  # the store is down: search still indexes
            log.warning("caption vectors unavailable, embedding here: %s", error)
            found = {}
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for position, key in enumerate(digests):
            vector = found.get(key)
            if vector is None:
                missing.setdefault(key, []).append(position)
            else:
                out[position] = vector
        self.shared += len(texts) - sum(map(len, missing.values()))
        if missing:
            keys = list(missing)
            vectors = self.inner.embed([texts[missing[key][0]] for key in keys])
            for key, vector in zip(keys, vectors, strict=True):
                out[missing[key]] = vector
            self.embedded += len(keys)
            try:
                self._store(zip(keys, vectors, strict=True))
            except sa.exc.SQLAlchemyError as error:
                log.warning("caption vectors not shared: %s", error)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        # Through the store like a caption, so a query asked on one node is embedded once.
        return self.embed([text])[0]

    def _lookup(self, keys: set[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        c = caption_vectors.c
        ordered = sorted(keys)
        with self.engine.connect() as connection:
            for start in range(0, len(ordered), _LOOKUP_CHUNK):
                rows = connection.execute(
                    sa.select(c.digest, c.vector).where(
                        c.model == self.name, c.digest.in_(ordered[start:start + _LOOKUP_CHUNK])
                    )
                )
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (self.dim,):
                        found[key] = vector
        return found

    def _store(self, vectors: Iterable[tuple[str, np.ndarray]]) -> None:
        now = self.clock()
        rows = [{"model": self.name, "digest": key, "created_ms": now,
                 "vector": np.asarray(vector, dtype=np.float32).tobytes()}
                for key, vector in vectors]
        insert = dialect_insert(self.engine, caption_vectors)
        with self.engine.begin() as connection:
            # Another node may have embedded the same caption meanwhile: the same vector.
            connection.execute(insert.on_conflict_do_nothing(), rows)
