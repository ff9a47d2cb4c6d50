"""A real NATS JetStream server for the cluster tests, and a bus per test on its own prefix
(so streams and buckets of one test never meet another's)."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from vigil.bus.nats import NatsBus
from vigil.services.nats import NatsServer

_prefixes = itertools.count()


@pytest.fixture(scope="module")
def nats_server() -> Iterator[NatsServer]:
    directory = Path(tempfile.mkdtemp(prefix="vigil-test-cluster-nats-"))
    try:
        with NatsServer(directory) as server:
            yield server
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def bus(nats_server: NatsServer) -> Iterator[NatsBus]:
    bus = NatsBus(nats_server.url, prefix=f"c{next(_prefixes)}")
    yield bus
    bus.close()
