"""A real NATS JetStream server in a scratch directory, for test fixtures."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vigil.services.nats import NatsServer


@contextmanager
def running_nats(name: str) -> Iterator[NatsServer]:
    directory = Path(tempfile.mkdtemp(prefix=f"vigil-{name}-nats-"))
    try:
        with NatsServer(directory) as server:
            yield server
    finally:
        shutil.rmtree(directory, ignore_errors=True)
