"""How the NATS bus fails: its own errors, and which client errors are worth trying again.

Kept apart from the bus because publishing, connecting and the tests all judge errors the same
way, and the judgement (what a leader election looks like from the client) is its own subject.
"""

from __future__ import annotations

import asyncio
import ssl

import nats
from nats.js.errors import BadRequestError


class PublishTimeoutError(TimeoutError):
    """JetStream did not acknowledge a publish within the bus's `publish_timeout_s`."""


class BusClosedError(ConnectionError):
    """The bus was closed; nothing more goes through it."""


def transient(error: BaseException) -> bool:
    """Whether publishing the same message again may succeed. During a leader election a
    publish fails in many ways (a timeout, 503 no responders or "no response from stream", a 500,
    an API error without a code, a reconnect in progress); only a refusal of the message itself
    or a connection this bus closed is final."""
    if isinstance(error, (nats.errors.ConnectionClosedError, nats.errors.MaxPayloadError,
                          nats.errors.BadSubjectError, BadRequestError)):
        return False
    return isinstance(error, (nats.errors.Error, asyncio.TimeoutError, OSError))


def refused_client(error: BaseException) -> bool:
    """Whether a server refused this client itself (credentials, certificates), not just was
    unreachable."""
    return isinstance(error, ssl.SSLError) or (
        isinstance(error, nats.errors.Error) and "authorization" in str(error).lower()
    )
