"""A store's search service lives as long as the store: closing the store closes the index's
SQLite files in every thread that searched, so a long-running process (an API node that
opens stores, the test suite) does not run out of file descriptors."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from tests.search.embedding_cache import CachedEmbedder
from vigil.search.service import SearchService
from vigil.store import EventStore


def open_files_under(directory: Path) -> list[str]:
    opened = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(directory)):
            opened.append(target)
    return opened


def test_closing_the_store_closes_its_search_index_in_every_thread(
    tmp_path: Path, cached_embedder: CachedEmbedder
) -> None:
    where = tmp_path / "index"
    store = EventStore(f"sqlite:///{tmp_path / 'vigil.db'}")
    store.migrate()
    service = SearchService.for_store(
        store, embedder=cached_embedder, index_path=where / "vigil.search.db"
    )
    assert SearchService.for_store(store) is service
    reader = threading.Thread(target=service.index.stats)  # a second thread, its own connection
    reader.start()
    reader.join()
    service.index.stats()
    assert open_files_under(where)

    store.close()

    assert open_files_under(where) == []
    again = EventStore(f"sqlite:///{tmp_path / 'vigil.db'}")
    try:
        assert SearchService.for_store(
            again, embedder=cached_embedder, index_path=where / "vigil.search.db"
        ) is not service
    finally:
        again.close()
