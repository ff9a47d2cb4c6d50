"""The live-event fan-out: isolation between tenants and camera groups on one node, shared
keys, slow subscribers told what they missed (and the store has it), limits, revocation.

Real users, tokens and a real uvicorn server (tests/security's two-tenant world); the hub-level
tests drive the hub on an asyncio loop with the real in-process bus and store.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import build_event, serve
from tests.security.conftest import PASSWORD, World, make_world
from vigil.auth.roles import Role
from vigil.auth.scope import AccessScope
from vigil.auth.service import SESSION_COOKIE
from vigil.bus import MemoryBus
from vigil.domain.events import EventMessage, Phase
from vigil.domain.frames import now_ms
from vigil.fanout import FanoutHub, StreamKey
from vigil.fanout.revocation import store_check
from vigil.store import EventStore
from vigil.store.query import EventQuery


class Listener:
    """An SSE client on its own thread: the blocks it received, as (event, data) pairs. It
    stops at the next line after `close` (the `world` fixture makes keep-alives frequent)."""

    def __init__(
        self, url: str, token: str | None, cookie: str | None = None, **params: str
    ) -> None:
        self.blocks: list[tuple[str, str]] = []
        self.connected = threading.Event()
        self.ended = threading.Event()
        self.status: int | None = None
        self._stop = False
        self._thread = threading.Thread(
            target=self._run, args=(url, token, cookie, params), daemon=True
        )
        self._thread.start()

    def _run(self, url: str, token: str | None, cookie: str | None, params: dict[str, str]) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if cookie:
            headers["Cookie"] = f"{SESSION_COOKIE}={cookie}"
        timeout = httpx.Timeout(10)
        with httpx.stream(
            "GET", f"{url}/api/events/stream", headers=headers, params=params, timeout=timeout
        ) as response:
            self.status = response.status_code
            if response.status_code != 200:
                self.connected.set()
                self.ended.set()
                return
            name = ""
            lines = response.iter_lines()
            for line in lines:
                if self._stop:
                    break
                if line == ": connected":
                    self.connected.set()
                elif line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    self.blocks.append((name, line.removeprefix("data: ")))
        self.ended.set()

    def ids(self) -> set[str]:
        return {json.loads(data)["id"] for name, data in self.blocks if name == "start"}

    def close(self) -> None:
        self._stop = True
        self._thread.join(5)


def publish(bus: MemoryBus, tenant: str, camera: str) -> str:
    event = build_event(tenant=tenant, camera_id=camera, start_ms=now_ms())
    bus.publish(EventMessage(phase=Phase.START, event=event))
    return event.id


def wait(condition: object, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False


def test_each_subscriber_gets_only_its_tenant_and_camera_group(world: World) -> None:
    users = world.auth.store
    gate_only = users.create_user(
        "alpha-gatewatch", PASSWORD, Role.OPERATOR, "alpha", ["alpha-group"]
    )  # the group holds alpha:gate only
    _, gate_token = users.create_token(gate_only.id, "t", None, now_ms() + 86_400_000)
    with serve(world.app) as url:
        listeners = {
            "alpha-all": Listener(url, world.tokens["alpha:operator"]),
            "alpha:gate": Listener(url, gate_token),
            "alpha:gate-2": Listener(url, gate_token),
            # Asking for a camera outside one's group, or another tenant's, widens nothing.
            "alpha:gate-asks-dock": Listener(url, gate_token, camera="alpha:dock"),
            "bravo-all": Listener(url, world.tokens["bravo:operator"]),
            "bravo-asks-alpha": Listener(url, world.tokens["bravo:operator"], camera="alpha:gate"),
        }
        try:
            assert all(listener.connected.wait(10) for listener in listeners.values())
            assert all(listener.status == 200 for listener in listeners.values())
            hub: FanoutHub = world.app.state.fanout
            # The two connections of alpha-gatewatch share one key: 5 keys for 6 streams.
            assert (hub.subscribers, hub.keys) == (6, 5)
            gate = publish(world.bus, "alpha", "alpha:gate")
            dock = publish(world.bus, "alpha", "alpha:dock")
            yard = publish(world.bus, "bravo", "bravo:yard")
            # A bravo camera that shares alpha's camera id reaches no alpha subscriber.
            twin = publish(world.bus, "bravo", "alpha:gate")
            expected = {
                "alpha-all": {gate, dock},
                "alpha:gate": {gate},
                "alpha:gate-2": {gate},
                "alpha:gate-asks-dock": set(),
                "bravo-all": {yard, twin},
                "bravo-asks-alpha": {twin},
            }
            assert wait(lambda: all(expected[n] <= listeners[n].ids() for n in expected))
            time.sleep(0.5)  # anything that should not come has had the time to
            assert {name: listener.ids() for name, listener in listeners.items()} == expected
        finally:
            for listener in listeners.values():
                listener.close()


def test_metrics_count_streams_and_deliveries_per_tenant_and_show_a_tenant_only_its_own(
    world: World,
) -> None:
    with serve(world.app) as url:
        listeners = [
            Listener(url, world.tokens["alpha:operator"]),
            Listener(url, world.tokens["alpha:admin"]),
            Listener(url, world.tokens["bravo:operator"]),
        ]
        try:
            assert all(listener.connected.wait(10) for listener in listeners)
            event = publish(world.bus, "alpha", "alpha:gate")
            assert wait(lambda: all(event in n.ids() for n in listeners[:2]))
            alpha = world.client("alpha:admin").get("/metrics").text
            system = world.client("root").get("/metrics").text
        finally:
            for listener in listeners:
                listener.close()
    assert 'vigil_fanout_connected{tenant="alpha"} 2.0' in alpha
    assert 'vigil_fanout_delivered_total{tenant="alpha"} 2.0' in alpha
    assert 'vigil_fanout_missed_total{tenant="alpha"} 0.0' in alpha
    assert 'tenant="bravo"' not in alpha  # another tenant's streams are not even counted
    assert 'vigil_fanout_connected{tenant="bravo"} 1.0' in system
    assert 'vigil_fanout_delivered_total{tenant="bravo"} 0.0' in system


def test_streams_over_the_limit_get_429_with_retry_after(world: World) -> None:
    world.config.security.streams_per_user = 2
    token = world.tokens["alpha:operator"]
    with serve(world.app) as url:
        held = [Listener(url, token), Listener(url, token)]
        try:
            assert all(listener.connected.wait(10) for listener in held)
            refused = httpx.get(
                f"{url}/api/events/stream", timeout=5, headers={"Authorization": f"Bearer {token}"}
            )
            assert refused.status_code == 429
            assert int(refused.headers["Retry-After"]) > 0
            assert "alpha:operator" in refused.json()["detail"]
            other = Listener(url, world.tokens["alpha:admin"])  # other users are not held up
            assert other.connected.wait(10) and other.status == 200
            other.close()
            held.pop().close()
            hub: FanoutHub = world.app.state.fanout
            assert wait(lambda: hub.subscribers == 1)
            again = Listener(url, token)  # a closed stream gives its slot back
            assert again.connected.wait(10) and again.status == 200
            held.append(again)
        finally:
            for listener in held:
                listener.close()


def test_a_revoked_token_closes_its_streams_and_no_other(world: World) -> None:
    world.app.state.context.sse_keepalive_s = 0.4  # the hub's timer ticks every 0.2 s
    world.app.state.fanout = FanoutHub(
        world.bus,
        keepalive_s=lambda: 0.4,
        check=store_check(world.auth.store.engine),
        revalidate_s=0.2,
    )
    users = world.auth.store
    user = users.create_user("alpha-phone", PASSWORD, Role.OPERATOR, "alpha")
    phone, secret = users.create_token(user.id, "phone", None, now_ms() + 86_400_000)
    with serve(world.app) as url:
        revoked = Listener(url, secret)
        kept = Listener(url, world.tokens["alpha:operator"])
        try:
            assert revoked.connected.wait(10) and kept.connected.wait(10)
            assert users.revoke_token(phone.id)
            assert revoked.ended.wait(10), "the revoked token's stream ended"
            assert ("closed", json.dumps({"reason": "revoked"})) in revoked.blocks
            after = publish(world.bus, "alpha", "alpha:gate")
            assert wait(lambda: after in kept.ids())
            assert not kept.ended.is_set()
        finally:
            revoked.close()
            kept.close()


def test_a_narrowed_camera_group_closes_the_stream_it_no_longer_covers(world: World) -> None:
    world.app.state.fanout = FanoutHub(
        world.bus,
        keepalive_s=lambda: 0.4,
        check=store_check(world.auth.store.engine),
        revalidate_s=0.2,
    )
    users = world.auth.store
    users.put_group("alpha", "alpha-both", ["alpha:gate", "alpha:dock"])
    guard = users.create_user("alpha-guard", PASSWORD, Role.OPERATOR, "alpha", ["alpha-both"])
    _, guard_token = users.create_token(guard.id, "t", None, now_ms() + 86_400_000)
    with serve(world.app) as url:
        stream = Listener(url, guard_token)
        kept = Listener(url, world.tokens["alpha:operator"])
        try:
            assert stream.connected.wait(10) and kept.connected.wait(10)
            users.put_group("alpha", "alpha-both", ["alpha:gate"])  # the dock is taken away
            assert stream.ended.wait(10), "the stream with the old scope ended"
            assert ("closed", json.dumps({"reason": "changed"})) in stream.blocks
            assert not kept.ended.is_set()  # a user whose scope did not change keeps streaming
            again = Listener(url, guard_token)  # reconnecting gets the narrowed scope
            try:
                assert again.connected.wait(10)
                dock = publish(world.bus, "alpha", "alpha:dock")
                gate = publish(world.bus, "alpha", "alpha:gate")
                assert wait(lambda: gate in again.ids() and dock in kept.ids())
                assert dock not in again.ids()
            finally:
                again.close()
        finally:
            stream.close()
            kept.close()


def test_logging_out_closes_the_sessions_stream(world: World) -> None:
    world.app.state.fanout = FanoutHub(
        world.bus,
        keepalive_s=lambda: 0.4,
        check=store_check(world.auth.store.engine),
        revalidate_s=0.2,
    )
    browser = world.session("alpha:operator")  # logged in with a password: a session cookie
    cookie = browser.cookies.get(SESSION_COOKIE)
    assert cookie
    with serve(world.app) as url:
        stream = Listener(url, None, cookie=cookie)
        try:
            assert stream.connected.wait(10) and stream.status == 200
            assert browser.post("/api/auth/logout").status_code in (200, 204)
            assert stream.ended.wait(10), "the stream ended with the session"
            assert ("closed", json.dumps({"reason": "revoked"})) in stream.blocks
        finally:
            stream.close()


def test_a_slow_subscriber_is_told_what_it_missed_and_the_store_has_it(
    store: EventStore,
) -> None:
    """A subscriber that reads nothing does not hold back one that keeps up; when it reads
    again it first gets `missed` with a time from which the store returns what it lost."""
    store.migrate()
    bus = MemoryBus()

    async def scenario() -> tuple[list[str], str]:
        hub = FanoutHub(bus, keepalive_s=lambda: 15.0, buffer=5)
        key = StreamKey.build(None, ["gate"])
        fast = await hub.join(key, user="fast", tenant=None, credential=None)
        slow = await hub.join(key, user="slow", tenant=None, credential=None)
        received: list[str] = []
        events = [build_event(camera_id="gate", start_ms=now_ms() - 1000 + i) for i in range(40)]
        store.upsert_events(events)  # what the event sink would have written meanwhile
        for event in events:
            bus.publish(EventMessage(phase=Phase.START, event=event))
            # The fast one keeps up: it reads each event before the next is published.
            await asyncio.wait_for(fast.wait(), 5)
            received.extend(_ids(fast.drain()))
        late = slow.drain()
        # The node's counters (/metrics): both were handed every event; the slow one lost
        # whole buffers and is told once.
        stats = hub.stats
        assert stats.connected == {"": 2} and stats.delivered == {"": 2 * len(events)}
        assert stats.missed == {"": 1}
        assert stats.dropped[""] == json.loads(late.split("data: ", 1)[1].split("\n")[0])["missed"]
        hub.leave(fast)
        hub.leave(slow)
        assert hub.subscribers == 0 and hub.keys == 0 and not stats.connected
        return received, late

    received, late = asyncio.run(scenario())
    published = [e.id for e in store.query_events(EventQuery(camera_ids=["gate"], limit=100)).items]
    assert sorted(received) == sorted(published)  # nothing lost for the one that kept up
    notice = late.split("\n\n")[0]
    assert notice.startswith("event: missed\ndata: ")
    missed = json.loads(notice.split("data: ", 1)[1])
    kept = _ids(late)
    assert missed["missed"] == len(published) - len(kept) and len(kept) <= 5
    resynced = store.query_events(
        EventQuery(camera_ids=["gate"], start_ms=missed["since_ms"], limit=100)
    ).items
    assert {e.id for e in resynced} | set(kept) == set(published)


def test_a_client_that_stops_reading_fills_its_socket_and_is_told_what_it_missed(
    world: World,
) -> None:
    """Over a real socket: a client that reads nothing fills the kernel's buffers until the
    node's writes have to wait (the writer's suspended path); the reader beside it still gets
    every event, and the stalled one, once it reads again, is told it missed events and then
    gets new ones on the same connection."""
    with serve(world.app) as url:
        reader = Listener(url, world.tokens["alpha:operator"], camera="alpha:gate")
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        port = int(url.rsplit(":", 1)[1])
        stalled.connect(("127.0.0.1", port))
        stalled.sendall(
            b"GET /api/events/stream?camera=alpha:gate HTTP/1.1\r\nHost: t\r\n"
            + f"Authorization: Bearer {world.tokens['alpha:operator']}\r\n\r\n".encode()
        )
        try:
            assert reader.connected.wait(10) and reader.status == 200
            hub: FanoutHub = world.app.state.fanout
            assert wait(lambda: hub.subscribers == 2)
            # ≈ 12 MB in all: more than the kernel's socket buffers and the transport's hold.
            padding = {"note": "x" * 4000}
            sent: list[str] = []
            for _ in range(30):  # in steps the reader keeps up with (its buffer is 256)
                for _ in range(100):
                    event = build_event(
                        tenant="alpha",
                        camera_id="alpha:gate",
                        start_ms=now_ms(),
                        attributes=padding,
                    )
                    world.bus.publish(EventMessage(phase=Phase.START, event=event))
                    sent.append(event.id)
                assert wait(lambda: reader.ids() >= set(sent), 30), "the reader was held back"
            assert hub.stats.missed.get("alpha", 0) >= 1  # the stalled one overflowed
            received = b""
            stalled.settimeout(10)
            last = publish(world.bus, "alpha", "alpha:gate")
            while last.encode() not in received:
                chunk = stalled.recv(65536)
                assert chunk, "the stalled stream was closed"
                received += chunk
            assert b"event: missed" in received
            # What it did get is a subset of what was sent, the new event after the notice.
            assert received.index(b"event: missed") < received.index(last.encode())
        finally:
            stalled.close()
            reader.close()


def _ids(chunk: str) -> list[str]:
    return [
        json.loads(line.removeprefix("data: "))["id"]
        for line in chunk.split("\n")
        if line.startswith('data: {"schema_version"')
    ]


def test_keys_fold_camera_groups_and_data_kinds() -> None:
    group = AccessScope(["alpha"], cameras=["gate", "dock"], kinds=["events"])
    assert StreamKey.build(group, ["gate", "yard"]).cameras == {"gate"}
    assert StreamKey.build(group, None) == StreamKey.build(
        AccessScope(["alpha"], cameras=["dock", "gate"], kinds=["events", "live"]), None
    )
    no_events = AccessScope(["alpha"], kinds=["live"])
    key = StreamKey.build(no_events, None)
    assert key.cameras == frozenset()
    assert not key.matches(build_event(tenant="alpha", camera_id="gate"))
    typed = StreamKey.build(AccessScope(["alpha"]), None, ["zone.entry"])
    assert not typed.matches(build_event(tenant="alpha", type="line.crossing"))
    assert typed.matches(build_event(tenant="alpha", type="zone.entry"))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    built = make_world(tmp_path)
    built.app.state.context.sse_keepalive_s = 0.2
    yield built
    built.store.close()
