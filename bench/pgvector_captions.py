"""pgvector against Vigil's numpy caption scorer, on the caption vectors of the 1M-event search
benchmark (`vigil bench search --events 1000000` builds them in data/bench/search-1000000/).

Measured in the same run, same query vectors (the 20 queries of `vigil bench search`, embedded
with the bundled MiniLM): numpy exact top-100 over every caption vector (what the search index
does below 20,000 candidates; the baseline), pgvector exact (no vector index), and pgvector HNSW
(default m=16, ef_construction=64; ef_search 40, 200 and 1000), with each one's recall@100
against the exact top 100 and the HNSW build time; each query also asked about one camera (a
`WHERE` on the caption's camera: numpy scores only that camera's captions, pgvector filters what
its scan yields, with and without pgvector 0.8's iterative scans).

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
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg

from vigil.bench.search import QUERIES
from vigil.config import ROOT
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


Query = tuple[np.ndarray, str | None]  # the query's vector, and the one camera it asks about


def load_cameras() -> np.ndarray:
    db = sqlite3.connect(INDEX)
    return np.array([row[0] for row in db.execute("SELECT camera_id FROM captions ORDER BY id")])


def literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in vector) + "]"


def timed(run: Callable[[Query], np.ndarray],
          queries: list[Query]) -> tuple[list[float], list[np.ndarray]]:
    run(queries[0])  # warm-up
    times, results = [], []
    for query in queries:
        started = time.perf_counter()
        results.append(run(query))
        times.append((time.perf_counter() - started) * 1000)
    return times, results


def summary(name: str, times: list[float], found: list[np.ndarray],
            exact: list[np.ndarray], baseline_ms: float) -> dict[str, object]:
    recall = statistics.mean(len(set(f.tolist()) & set(e.tolist())) / len(e)
                             for f, e in zip(found, exact, strict=True))
    ordered = sorted(times)
    p50 = statistics.median(times)
    return {"method": name, "p50_ms": round(p50, 1),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
            "p50_vs_numpy": round(p50 / baseline_ms, 2), "recall_at_100": round(recall, 3)}


def main(real: bool) -> None:
    vectors, cameras = load_vectors(real), load_cameras()
    embedder = MiniLM()
    vectors_of_queries = [embed_query(embedder, text).astype(np.float32) for text in QUERIES]
    names = sorted(set(cameras.tolist()))
    by_camera = {name: np.flatnonzero(cameras == name) for name in names}
    # Each query alone, and each asked about one camera (round robin): a filter to one camera's
    # captions (one of 40 cameras in the 1M-event set), as "… at the dock" is.
    kinds = {
        "": [(query, None) for query in vectors_of_queries],
        ", one camera": [(query, names[i % len(names)])
                         for i, query in enumerate(vectors_of_queries)],
    }

    def numpy_top(item: Query) -> np.ndarray:
        query, camera = item
        ids = None if camera is None else by_camera[camera]
        scores = (vectors if ids is None else vectors[ids]) @ query
        top = np.argpartition(-scores, TOP)[:TOP]
        top = top[np.argsort(-scores[top])]
        return top if ids is None else ids[top]

    exact, baseline, rows = {}, {}, []
    for kind, queries in kinds.items():
        times, exact[kind] = timed(numpy_top, queries)
        baseline[kind] = statistics.median(times)
        rows.append(summary(f"numpy exact{kind} (baseline)", times, exact[kind], exact[kind],
                            baseline[kind]))

    directory = Path(tempfile.mkdtemp(prefix="vigil-bench-pgvector-"))
    directory.chmod(0o755)
    server = PostgresServer(directory, durable=False).start()
    try:
        url = server.create_database("bench", extensions=("vector",)).replace(
            "postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE captions "
                         "(id integer PRIMARY KEY, camera text NOT NULL, v vector(384))")
            started = time.perf_counter()
            with conn.cursor().copy("COPY captions (id, camera, v) FROM STDIN") as copy:
                for i, (vector, camera) in enumerate(zip(vectors, cameras, strict=True)):
                    copy.write_row((i, str(camera), literal(vector)))
            load_s = time.perf_counter() - started
            conn.execute("CREATE INDEX ON captions (camera)")
            conn.execute("ANALYZE captions")

            def pg_top(item: Query) -> np.ndarray:
                query, camera = item
                where = "" if camera is None else "WHERE camera = %(camera)s "
                found = conn.execute(
                    f"SELECT id FROM captions {where}ORDER BY v <=> %(q)s::vector LIMIT {TOP}",
                    {"q": literal(query), "camera": camera},
                ).fetchall()
                return np.array([row[0] for row in found])

            def measure(name: str) -> None:
                for kind, queries in kinds.items():
                    rows.append(summary(name + kind, *timed(pg_top, queries), exact[kind],
                                        baseline[kind]))

            conn.execute("SET max_parallel_workers_per_gather = 2")
            measure("pgvector exact (no vector index)")
            started = time.perf_counter()
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("CREATE INDEX ON captions USING hnsw (v vector_cosine_ops)")
            build_s = time.perf_counter() - started
            for ef in (40, 200, 1000):
                conn.execute(f"SET hnsw.ef_search = {ef}")
                measure(f"pgvector HNSW ef_search={ef}")
            # pgvector 0.8: scan the graph further until enough rows pass the filter.
            conn.execute("SET hnsw.iterative_scan = relaxed_order")
            for ef in (200, 1000):
                conn.execute(f"SET hnsw.ef_search = {ef}")
                rows.append(summary(f"pgvector HNSW ef_search={ef}, iterative scan, one camera",
                                    *timed(pg_top, kinds[", one camera"]),
                                    exact[", one camera"], baseline[", one camera"]))
    finally:
        server.stop()
    print(json.dumps({"vectors": "real" if real else "benchmark's", "captions": len(vectors),
                      "cameras": len(names), "load_s": round(load_s, 1),
                      "hnsw_build_s": round(build_s, 1), "results": rows}, indent=2))


if __name__ == "__main__":
    main("--real" in sys.argv[1:])
