"""A real NATS JetStream server for the cluster tests, and a bus per test on its own prefix
(so streams and buckets of one test never meet another's)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.nats_server import running_nats
from vigil.bus.nats import NatsBus
from vigil.services.nats import NatsServer

_prefixes = itertools.count()


@pytest.fixture(scope="module")
def nats_server() -> Iterator[NatsServer]:
    with running_nats("test-cluster") as server:
        yield server


@pytest.fixture
def bus(nats_server: NatsServer) -> Iterator[NatsBus]:
    bus = NatsBus(nats_server.url, prefix=f"c{next(_prefixes)}")
    yield bus
    bus.close()
