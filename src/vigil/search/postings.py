"""Which events each caption has, so that a search reads only the events of matching captions.

A query matches a small share of the captions (a few hundred of 177,000 in the benchmark's
1M events), and so of the events: finding them by testing every event's caption cost 3-4 ms a
search at 1M events. `Postings` holds the events grouped by caption once; a search gathers the
groups of its matching captions. It is rebuilt from the mirror's columns (100-200 ms at 1M
events) when enough events changed since: until then, events written after it was built are
`Changed` and tested one by one.
"""

from __future__ import annotations

import numpy as np

from vigil.search.columns import Grow

# Rebuilt when more events changed than this share of those it holds (and at least REBUILD_MIN):
# the one-by-one test of changed events then costs more than a rebuild spread over the searches.
REBUILD_SHARE = 0.02
REBUILD_MIN = 5_000


class Postings:
    """Docs grouped by caption row (docs ascending within a row), as of one moment of the
    mirror: `seq` is the last write it holds, `n_docs` how many doc numbers it covers."""

    def __init__(self, doc_row: np.ndarray, n_rows: int, seq: int) -> None:
        held = np.flatnonzero(doc_row >= 0)
        rows = doc_row[held]
        self.docs = held[np.argsort(rows, kind="stable")].astype(np.int32)
        self.offsets = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n_rows), out=self.offsets[1:])
        self.n_rows = n_rows
        self.n_docs = len(doc_row)
        self.seq = seq

    def docs_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The docs of caption `rows` (ascending, distinct), and each one's row."""
        rows = rows[rows < self.n_rows]
        first = self.offsets[rows]
        lengths = self.offsets[rows + 1] - first
        total = int(lengths.sum())
        # Position of each gathered doc: its group's first position plus its place in the group.
        before = np.cumsum(lengths) - lengths
        positions = np.repeat(first - before, lengths) + np.arange(total)
        return self.docs[positions], np.repeat(rows, lengths)


class Changed:
    """Docs written since the postings were built, marked (to leave their stale place in the
    postings out) and listed (to test them one by one)."""

    def __init__(self) -> None:
        self.mark = Grow(np.bool_, fill=False)
        self._docs: list[np.ndarray] = []
        self.count = 0

    def add(self, docs: np.ndarray) -> None:
        self.mark.ensure(int(docs.max()) + 1)
        new = docs[~self.mark.data[docs]]
        if len(new):
            self.mark.data[new] = True
            self._docs.append(new)
            self.count += len(new)

    def marked(self, n: int) -> np.ndarray:
        """Whether each of the first `n` docs changed, as a copy (a search's own snapshot)."""
        out = np.zeros(n, dtype=np.bool_)
        held = min(n, len(self.mark.data))
        out[:held] = self.mark.data[:held]
        return out

    def docs(self) -> np.ndarray:
        if len(self._docs) > 1:
            self._docs = [np.unique(np.concatenate(self._docs))]
        return self._docs[0] if self._docs else np.zeros(0, dtype=np.int64)

    def too_many(self, held: int) -> bool:
        return self.count > max(REBUILD_MIN, int(held * REBUILD_SHARE))
