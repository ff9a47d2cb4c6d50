"""Several API nodes on one PostgreSQL database: one of them at a time runs the scheduled
retention pass, so each deletion is done and audited once."""

from __future__ import annotations

from pathlib import Path

from tests.services.fixtures import reset_postgres
from vigil.auth.store import AuthStore
from vigil.config import RetentionConfig
from vigil.privacy.retention import RetentionJob
from vigil.store import EventStore, LocalMediaStore


def test_one_api_node_at_a_time_takes_the_scheduled_pass(
    postgres_url: str, tmp_path: Path
) -> None:
    store = EventStore(reset_postgres(postgres_url))
    store.migrate()
    try:
        nodes = [
            RetentionJob(store.engine, LocalMediaStore(tmp_path / f"media-{i}"),
                         RetentionConfig(), AuthStore(store.engine))
            for i in range(2)
        ]
        with nodes[0]._cluster_turn() as first, nodes[1]._cluster_turn() as second:
            assert (first, second) == (True, False)
        with nodes[1]._cluster_turn() as later:
            assert later  # released after the first node's pass
    finally:
        store.close()
