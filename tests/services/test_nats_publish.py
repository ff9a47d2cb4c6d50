"""Publishing with a future per acknowledgement (`vigil.bus.publish`) against a real
JetStream: a stored message settles its future, and JetStream's refusals arrive as the errors
the bus tells apart (transient or final)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.js.errors import BadRequestError, NoStreamResponseError

from vigil.bus.nats_errors import transient
from vigil.bus.publish import AckedPublisher
from vigil.services.nats import NatsServer


@pytest.fixture(scope="module")
def server() -> Iterator[NatsServer]:
    directory = Path(tempfile.mkdtemp(prefix="vigil-test-publish-"))
    try:
        with NatsServer(directory / "nats") as running:
            yield running
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def answers(url: str) -> list[BaseException | None]:
    nc = await nats.connect(url)
    try:
        await nc.jetstream().add_stream(name="PUB", subjects=["pub.>"])
        publisher = AckedPublisher(nc)
        await publisher.start()
        futures = [
            await publisher.publish("pub.stored", b"one", None),
            await publisher.publish("nowhere.at.all", b"two", None),  # no stream takes it
            await publisher.publish("pub.stored", b"three",
                                    {"Nats-Expected-Stream": "ANOTHER"}),
        ]
        await asyncio.wait(futures, timeout=10)
        info = await nc.jetstream().stream_info("PUB")
        assert info.state.messages == 1
        return [future.exception() for future in futures]
    finally:
        await nc.close()


def test_acknowledgements_and_refusals_settle_their_futures(server: NatsServer) -> None:
    stored, no_stream, wrong_stream = asyncio.run(answers(server.url))
    assert stored is None
    assert isinstance(no_stream, NoStreamResponseError) and transient(no_stream)
    assert isinstance(wrong_stream, BadRequestError) and not transient(wrong_stream)
