"""A real NATS JetStream server for the contract suites that run over NATS (bus, engine);
each test uses its own subject prefix, so streams and buckets of one never meet another's."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from vigil.services.nats import NatsServer


@pytest.fixture(scope="module")
def nats_server() -> Iterator[NatsServer]:
    directory = Path(tempfile.mkdtemp(prefix="vigil-contract-nats-"))
    try:
        with NatsServer(directory) as server:
            yield server
    finally:
        shutil.rmtree(directory, ignore_errors=True)
