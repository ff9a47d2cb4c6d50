"""pgvector against Vigil's numpy caption scorer, on the caption vectors of the 1M-event search
benchmark (`vigil bench search --events 1000000` builds them in data/bench/search-1000000/).

Measured in the same run, same query vectors (the 20 queries of `vigil bench search`, embedded
with the bundled MiniLM): numpy exact top-100 over every caption vector (what the search index
does below 20,000 candidates; the baseline), pgvector exact (sequential scan), and pgvector HNSW
(default m=16, ef_construction=64; ef_search 40 and 200), with each one's recall@100 against the
exact top 100 and the HNSW build time.

The benchmark's captions beyond the first 8,000 carry perturbed copies of real vectors (to build
a million events in minutes), which makes them more clustered than real captions. `--real`
embeds every distinct caption with the bundled MiniLM instead (about 11 minutes for 177,169 on
two cores, kept in data/bench/search-1000000/caption-vectors-real.npy) and measures on those.
Usage: .venv/bin/python bench/pgvector_captions.py [--real]
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg

from vigil.config import ROOT
from vigil.search.bench import QUERIES
from vigil.search.embedding import MiniLM, embed_query
from vigil.services.postgres import PostgresServer

INDEX = ROOT / "data" / "bench" / "search-1000000" / "vigil.search.db"
REAL = INDEX.with_name("caption-vectors-real.npy")
TOP = 100
EMBED_CHUNK = 2_000


def load_vectors(real: bool) -> np.ndarray:
    """The caption vectors of the 1M-event index, in caption id order: as the benchmark built
    them, or (`real`) every caption embedded with MiniLM."""
    if not INDEX.exists():
        raise SystemExit(f"{INDEX} is missing: run `vigil bench search --events 1000000` first")
    db = sqlite3.connect(INDEX)
    if not real:
        blobs = [row[0] for row in db.execute("SELECT vector FROM captions ORDER BY id")]
        return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)
    texts = [row[0] for row in db.execute("SELECT text FROM captions ORDER BY id")]
    if REAL.exists():
        vectors = np.load(REAL)
        if len(vectors) == len(texts):
            return vectors
    embedder = MiniLM(cache_size=0)
    chunks = []
    for start in range(0, len(texts), EMBED_CHUNK):
        chunks.append(embedder.embed(texts[start:start + EMBED_CHUNK]))
        print(f"embedded {min(start + EMBED_CHUNK, len(texts)):,} of {len(texts):,} captions",
              file=sys.stderr, flush=True)
    vectors = np.concatenate(chunks)
    np.save(REAL, vectors)
    return vectors


def timed(run: object, queries: np.ndarray) -> tuple[list[float], list[np.ndarray]]:
    times, results = [], []
    for query in queries:
        started = time.perf_counter()
        results.append(run(query))  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return times, results


def summary(name: str, times: list[float], found: list[np.ndarray],
            exact: list[np.ndarray]) -> dict[str, object]:
    recall = statistics.mean(len(set(f.tolist()) & set(e.tolist())) / TOP
                             for f, e in zip(found, exact, strict=True))
    ordered = sorted(times)
    return {"method": name, "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
            "recall_at_100": round(recall, 3)}


def main(real: bool) -> None:
    vectors = load_vectors(real)
    embedder = MiniLM()
    queries = np.stack([embed_query(embedder, text) for text in QUERIES]).astype(np.float32)

    def numpy_top(query: np.ndarray) -> np.ndarray:
        scores = vectors @ query
        top = np.argpartition(-scores, TOP)[:TOP]
        return top[np.argsort(-scores[top])]

    numpy_top(queries[0])  # warm-up
    numpy_times, exact = timed(numpy_top, queries)
    rows = [summary("numpy exact (baseline)", numpy_times, exact, exact)]

    directory = Path(tempfile.mkdtemp(prefix="vigil-bench-pgvector-"))
    directory.chmod(0o755)
    server = PostgresServer(directory, durable=False).start()
    try:
        url = server.create_database("bench", extensions=("vector",)).replace(
            "postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE captions (id integer PRIMARY KEY, v vector(384))")
            started = time.perf_counter()
            with conn.cursor().copy("COPY captions (id, v) FROM STDIN") as copy:
                for i, vector in enumerate(vectors):
                    copy.write_row((i, "[" + ",".join(f"{x:.6f}" for x in vector) + "]"))
            load_s = time.perf_counter() - started
            conn.execute("ANALYZE captions")

            def pg_top(query: np.ndarray) -> np.ndarray:
                literal = "[" + ",".join(f"{x:.6f}" for x in query) + "]"
                found = conn.execute(
                    "SELECT id FROM captions ORDER BY v <=> %s::vector LIMIT %s", (literal, TOP)
                ).fetchall()
                return np.array([row[0] for row in found])

            conn.execute("SET max_parallel_workers_per_gather = 2")
            pg_top(queries[0])
            rows.append(summary("pgvector exact (seq scan)", *timed(pg_top, queries), exact))
            started = time.perf_counter()
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("CREATE INDEX ON captions USING hnsw (v vector_cosine_ops)")
            build_s = time.perf_counter() - started
            for ef in (40, 200, 1000):
                conn.execute(f"SET hnsw.ef_search = {ef}")
                pg_top(queries[0])
                rows.append(summary(f"pgvector HNSW ef_search={ef}", *timed(pg_top, queries),
                                    exact))
    finally:
        server.stop()
    baseline = rows[0]["p50_ms"]
    for row in rows:
        row["p50_vs_numpy"] = round(float(row["p50_ms"]) / float(baseline), 2)  # type: ignore[arg-type]
    print(json.dumps({"vectors": "real" if real else "benchmark's", "captions": len(vectors),
                      "load_s": round(load_s, 1),
                      "hnsw_build_s": round(build_s, 1), "results": rows}, indent=2))


if __name__ == "__main__":
    main("--real" in sys.argv[1:])
