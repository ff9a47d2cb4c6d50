"""Which pipeline engine the API suite's routes talk to: the single node's or a cluster's.

    VIGIL_TEST_ENGINE=cluster scripts/test

`local` (the default on SQLite): the engine lives in the API's process, as under `vigil serve`
on one node. `cluster` (the default on PostgreSQL): the API holds the real `ClusterEngine`
over a real NATS server, and a real `vigil worker` loop (cluster.worker.Worker, in a thread)
takes the cameras from the store, heartbeats their status and answers live-view requests,
as in a cluster deployment. scripts/test runs SQLite and PostgreSQL side by side, so each
run of the API suite covers one shape and CI time does not grow.

Either way the pipeline that holds the cameras is tests/api/conftest.py's `StaticEngine`
(fixed frames, no decoding or inference): what is tested is the API over each engine, not the
analysis. Tests that need what only a pipeline in the API's own process does carry
`@pytest.mark.single_node(reason=...)` and are skipped in the cluster run.
"""

from __future__ import annotations

import os

import pytest

from tests.databases import on_postgresql

ENGINE_ENV = "VIGIL_TEST_ENGINE"
ENGINES = ("local", "cluster")


def engine_kind() -> str:
    """'local' or 'cluster', from $VIGIL_TEST_ENGINE; by default 'cluster' on PostgreSQL runs
    and 'local' on SQLite ones."""
    default = "cluster" if on_postgresql() else "local"
    value = os.environ.get(ENGINE_ENV, "").strip().lower() or default
    if value not in ENGINES:
        raise pytest.UsageError(f"{ENGINE_ENV}={value!r}: expected one of {', '.join(ENGINES)}")
    return value


def on_cluster() -> bool:
    return engine_kind() == "cluster"
