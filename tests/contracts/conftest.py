"""A real NATS JetStream server for the contract suites that run over NATS (bus, engine);
each test uses its own subject prefix, so streams and buckets of one never meet another's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.nats_server import running_nats
from vigil.services.nats import NatsServer


@pytest.fixture(scope="module")
def nats_server() -> Iterator[NatsServer]:
    with running_nats("contract") as server:
        yield server
