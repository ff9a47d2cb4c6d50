"""A new API node rebuilding its search index from PostgreSQL: with the caption vectors the
other nodes shared (`vigil.search.shared_vectors`) against running the sentence model on every
caption (what a node without them does, and the baseline), in the same run, on a throwaway
PostgreSQL. Usage: .venv/bin/python bench/search_rebuild.py [events]   (default 5000)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from vigil.bench.synthetic import synthetic_events
from vigil.search.embedding import MiniLM
from vigil.search.index import SearchIndex
from vigil.search.indexer import reindex
from vigil.search.service import SearchService
from vigil.search.shared_vectors import SharedVectors
from vigil.services.postgres import PostgresServer
from vigil.store import EventStore


def rebuild(store: EventStore, directory: Path, model: MiniLM) -> tuple[float, SharedVectors]:
    shared = SharedVectors(model, store.engine)
    service = SearchService(store, SearchIndex(directory / "vigil.search.db", shared))
    began = time.perf_counter()
    reindex(service)
    seconds = time.perf_counter() - began
    service.index.close()
    return seconds, shared


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    directory = Path(tempfile.mkdtemp(prefix="vigil-bench-rebuild-"))
    os.chmod(directory, 0o755)  # PostgreSQL runs as its own user when we are root
    try:
        with PostgresServer(directory / "postgres") as server:
            store = EventStore(server.create_database("vigil_bench_rebuild", extensions=()))
            store.migrate()
            store.upsert_events(list(synthetic_events(count)))
            model = MiniLM()
            model.embed(["warm up"])
            embedding_s, first = rebuild(store, directory / "api-1", model)
            shared_s, second = rebuild(store, directory / "api-2", model)
            store.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps({
        "events": count, "captions_embedded": first.embedded, "captions_shared": second.shared,
        "embedding_s": round(embedding_s, 2), "shared_s": round(shared_s, 2),
        "speedup": round(embedding_s / shared_s, 1),
        "machine": f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}",
    }))


if __name__ == "__main__":
    main()
