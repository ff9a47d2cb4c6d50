"""Server-Sent Events on a real server: delivery, camera filter, keep-alive, cleanup."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import httpx
from fastapi import FastAPI

from vigil.bus import MemoryBus
from vigil.domain.events import Event, EventMessage, Phase

MakeEvent = Callable[..., Event]


def sse_clients(bus: MemoryBus) -> int:
    return sum(1 for s in bus._subscribers if s.name.startswith("sse-"))


def next_block(lines: Iterator[str]) -> list[str]:
    """The lines of the next SSE block (up to a blank line)."""
    block: list[str] = []
    for line in lines:
        if line == "":
            if block:
                return block
            continue
        block.append(line)
    raise AssertionError("stream ended")


def test_events_published_on_the_bus_reach_the_client(
    live_url: str, bus: MemoryBus, make_event: MakeEvent
) -> None:
    with httpx.Client(timeout=10) as http, http.stream(
        "GET", f"{live_url}/api/events/stream", params={"camera": "gate"}
    ) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next_block(lines) == [": connected"]  # subscribed from here on
        assert sse_clients(bus) == 1
        skipped = make_event(camera_id="dock")
        start = make_event(camera_id="gate")
        bus.publish(EventMessage(phase=Phase.START, event=skipped))
        bus.publish(EventMessage(phase=Phase.START, event=start))
        bus.publish(EventMessage(phase=Phase.END, event=start))
        first, second = next_block(lines), next_block(lines)
        assert first[0] == "event: start" and second[0] == "event: end"
        assert Event.model_validate(json.loads(first[1].removeprefix("data: "))) == start
    deadline = time.monotonic() + 5
    while sse_clients(bus) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sse_clients(bus) == 0  # the subscription closed with the connection


def test_keep_alive_comments(app: FastAPI, live_url: str) -> None:
    app.state.context.sse_keepalive_s = 0.2
    with httpx.Client(timeout=10) as http, http.stream(
        "GET", f"{live_url}/api/events/stream"
    ) as stream:
        lines = stream.iter_lines()
        assert next_block(lines) == [": connected"]
        assert next_block(lines) == [": keep-alive"]


def test_bad_camera_filter_is_a_422(live_url: str) -> None:
    response = httpx.get(f"{live_url}/api/events/stream", params={"camera": "x" * 300})
    assert response.status_code == 422 and response.json()["detail"].startswith("camera")
