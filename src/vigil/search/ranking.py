"""Ranking of search candidates, pure numpy: sign-bit shortlists, reciprocal rank fusion of
vector similarity and keyword rank, top-k by score then recency, hour-of-day filters, the
timeline histogram, and which query words a caption contains.

Apart from the index so that the scoring can be read, and tested, without its storage.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

RRF_K = 60
# With words left over for ranking, a caption matches when it has one of them or its cosine
# similarity is within this much of the best one (and above the floor).
SIMILARITY_MARGIN = 0.12
SIMILARITY_FLOOR = 0.25
FTS_WORD = re.compile(r"[a-z0-9]+")  # the words FTS5 indexes (unicode61, lower-cased)


def sign_bits(vectors: np.ndarray) -> np.ndarray:
    """The signs of each vector's components, packed into uint64 words."""
    packed = np.packbits(np.asarray(vectors) > 0, axis=-1)
    return packed.view(np.uint64)


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def hamming(codes: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Bits that differ between each row of `codes` and `query` (uint64 words)."""
    xor = np.bitwise_xor(codes, query)
    count = getattr(np, "bitwise_count", None)
    if count is not None:  # numpy >= 2.0
        return count(xor).sum(axis=1, dtype=np.int32)
    return _POPCOUNT[xor.view(np.uint8)].sum(axis=1, dtype=np.int32)


def fuse(similarity: np.ndarray, keyword_rank: np.ndarray, have_keywords: bool
          ) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Reciprocal rank fusion of similarity and keyword ranks; which captions match."""
    n = len(similarity)
    score = np.zeros(n, dtype=np.float64)
    known = ~np.isnan(similarity)
    best = float(np.nanmax(similarity)) if known.any() else None
    if known.any():
        order = np.argsort(-np.where(known, similarity, -np.inf), kind="stable")
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        score += np.where(known, 1.0 / (RRF_K + 1 + rank), 0.0)
    hit = keyword_rank >= 0
    score += np.where(hit, 1.0 / (RRF_K + 1 + keyword_rank), 0.0)
    if have_keywords and best is not None:
        close = known & (similarity >= max(SIMILARITY_FLOOR, best - SIMILARITY_MARGIN))
        matched = hit | close
    elif have_keywords:
        matched = hit
    else:
        matched = np.ones(n, dtype=bool)
    return score, matched, best


def top(docs: np.ndarray, rows: np.ndarray, starts: np.ndarray, caption_score: np.ndarray,
         k: int) -> np.ndarray:
    """The first k docs ordered by caption score (high first), then start time (newest)."""
    if not len(docs) or k <= 0:
        return docs[:0]
    scores = caption_score[rows]
    if len(docs) > 4 * k:
        # Only captions whose docs can reach the first k matter: all docs of captions scoring
        # above the k-th doc's caption, and the newest of those scoring the same as it.
        per_caption = np.bincount(rows)
        present = np.flatnonzero(per_caption)
        order = present[np.argsort(-caption_score[present], kind="stable")]
        cumulative = np.cumsum(per_caption[order])
        cut = min(int(np.searchsorted(cumulative, k)), len(order) - 1)
        threshold = caption_score[order[cut]]
        above = np.flatnonzero(scores > threshold)
        tied = np.flatnonzero(scores == threshold)
        wanted = k - len(above)
        if wanted <= 0:
            tied = tied[:0]
        elif wanted < len(tied):
            # The newest `wanted`, and any others as new as the last of them (the final sort
            # breaks those ties by id).
            newest = -np.partition(-starts[tied], wanted - 1)[wanted - 1]
            tied = tied[starts[tied] >= newest]
        keep = np.concatenate([above, tied])
        docs, starts, scores = docs[keep], starts[keep], scores[keep]
    order = np.lexsort((-docs, -starts, -scores))
    return docs[order[:k]]


def in_hours(starts: np.ndarray, hours: tuple[int, int], tz: ZoneInfo) -> np.ndarray:
    """Whether each epoch-ms instant falls in the local [start, end) hours (may wrap)."""
    if not len(starts):
        return np.zeros(0, dtype=bool)
    hour_index = starts // 3_600_000
    lo, hi = int(hour_index.min()), int(hour_index.max())
    if hi - lo > 24 * 366 * 20:
        lo = hi - 24 * 366 * 20
    local_hour = np.empty(hi - lo + 1, dtype=np.int16)
    for offset in range(hi - lo + 1):
        moment = datetime.fromtimestamp((lo + offset) * 3600, UTC).astimezone(tz)
        local_hour[offset] = moment.hour
    hour = local_hour[np.clip(hour_index - lo, 0, hi - lo)]
    start, end = hours
    if start < end:
        return (hour >= start) & (hour < end)
    return (hour >= start) | (hour < end)


def timeline_histogram(starts: np.ndarray, start_ms: int | None, end_ms: int | None, buckets: int
              ) -> dict[str, Any]:
    if not len(starts):
        return {"start_ms": start_ms, "end_ms": end_ms, "bucket_ms": None, "counts": []}
    lo = int(starts.min()) if start_ms is None else start_ms
    hi = int(starts.max()) + 1 if end_ms is None else end_ms
    span = max(hi - lo, 60_000)
    nice = [60_000, 300_000, 900_000, 1_800_000, 3_600_000, 3 * 3_600_000, 6 * 3_600_000,
            12 * 3_600_000, 86_400_000, 7 * 86_400_000, 30 * 86_400_000]
    bucket = next((b for b in nice if span / b <= buckets), nice[-1])
    lo = lo - lo % bucket
    count = max(1, -(-(hi - lo) // bucket))
    index = np.clip((starts - lo) // bucket, 0, count - 1)
    counts = np.bincount(index, minlength=count)
    return {"start_ms": lo, "end_ms": lo + count * bucket, "bucket_ms": bucket,
            "counts": counts.astype(int).tolist()}


def words_in(keywords: list[str], text: str) -> list[str]:
    words = FTS_WORD.findall(text.lower())
    found = []
    for keyword in keywords:
        stem = keyword[: max(4, len(keyword) - 3)] if len(keyword) > 4 else keyword
        if any(w == keyword or w.startswith(stem) for w in words):
            found.append(keyword)
    return found
