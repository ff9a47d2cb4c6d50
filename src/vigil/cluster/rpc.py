"""Asking the worker that owns a camera for its live frame or module counters (NATS
request/reply), so that live view works from any API node.

The owner answers on `<prefix>.rpc.<camera>` while it analyses the camera; nobody else
subscribes there, so a request to a camera that no worker runs fails fast (no responders).
Replies are framed by their first byte: b"I" + 8-byte frame time (ms) + JPEG, b"J" + JSON,
b"N" (no frame yet), b"E" + message (the camera is gone).
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
from typing import Any

import nats.errors

from vigil.bus.nats import NatsBus
from vigil.bus.nats_codec import token
from vigil.pipeline.control import EngineControl

log = logging.getLogger(__name__)
RPC_TIMEOUT_S = 3.0
_TS = struct.Struct(">q")


class CameraUnavailable(LookupError):
    """No worker answers for the camera right now (it is starting, moving, or failing)."""


def rpc_subject(prefix: str, camera_id: str) -> str:
    return f"{prefix}.rpc.{token(camera_id)}"


def answer(engine: EngineControl, camera_id: str, request: dict[str, Any]) -> bytes:
    """The reply of the camera's owner to `request` (runs in a thread: live frames are
    redacted and encoded on demand)."""
    try:
        if request.get("op") == "stats":
            return b"J" + json.dumps(engine.module_stats(camera_id)).encode()
        max_width = request.get("max_width")
        frame = engine.live_jpeg(
            camera_id, overlay=bool(request.get("overlay", True)),
            max_width=int(max_width) if max_width else None,
        )
    except KeyError:
        return b"E" + f"camera {camera_id!r} is not analysed here".encode()
    if frame is None:
        return b"N"
    jpeg, ts_ms = frame
    return b"I" + _TS.pack(ts_ms) + jpeg


class Responder:
    """The owner's side: one subscription per camera it analyses."""

    def __init__(self, bus: NatsBus, engine: EngineControl) -> None:
        self.bus = bus
        self.engine = engine
        self._subscriptions: dict[str, Any] = {}

    def serve(self, camera_id: str) -> None:
        if camera_id not in self._subscriptions:
            self._subscriptions[camera_id] = self.bus.call(self._subscribe(camera_id), 10)

    async def _subscribe(self, camera_id: str) -> Any:
        loop = asyncio.get_running_loop()

        async def handle(msg: Any) -> None:
            try:
                request = json.loads(msg.data or b"{}")
            except ValueError:
                request = {}
            # In a thread: redaction must not hold up the bus's loop (acks, heartbeats).
            reply = await loop.run_in_executor(None, answer, self.engine, camera_id, request)
            await msg.respond(reply)

        return await self.bus.nc.subscribe(rpc_subject(self.bus.prefix, camera_id), cb=handle)

    def stop_serving(self, camera_id: str) -> None:
        subscription = self._subscriptions.pop(camera_id, None)
        if subscription is not None:
            try:
                self.bus.call(subscription.unsubscribe(), 10)
            except Exception as error:  # the connection is closing: nothing left to stop
                log.debug("unsubscribing %s: %s", camera_id, error)

    def close(self) -> None:
        for camera_id in list(self._subscriptions):
            self.stop_serving(camera_id)


def ask(bus: NatsBus, camera_id: str, request: dict[str, Any]) -> bytes:
    """Send `request` to the owner of `camera_id`; the framed reply.
    Raises CameraUnavailable when no worker answers."""
    try:
        reply = bus.call(
            bus.nc.request(rpc_subject(bus.prefix, camera_id), json.dumps(request).encode(),
                           timeout=RPC_TIMEOUT_S),
            RPC_TIMEOUT_S + 2,
        )
    except (nats.errors.NoRespondersError, nats.errors.TimeoutError, TimeoutError) as error:
        raise CameraUnavailable(f"no worker answers for camera {camera_id!r}") from error
    data: bytes = reply.data
    if data[:1] == b"E":
        raise CameraUnavailable(data[1:].decode(errors="replace"))
    return data


def live_frame(data: bytes) -> tuple[bytes, int] | None:
    if data[:1] == b"N":
        return None
    (ts_ms,) = _TS.unpack(data[1:9])
    return data[9:], ts_ms


def json_reply(data: bytes) -> Any:
    return json.loads(data[1:])
