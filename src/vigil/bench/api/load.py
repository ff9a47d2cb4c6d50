"""A client process of `vigil bench api`: `clients` concurrent request loops for a fixed time,
each request drawn from the mix; returns (kind, seconds, status, hits) samples (hits: the items
of a search answer, None for other kinds)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from typing import Any

from vigil.bench.api.http_client import Connection

EVENT_KINDS = ("events_page", "events_next_page", "events_camera_day")
COUNT_KINDS = ("counts_day",)
SEARCH_KINDS = ("search", "search_camera", "search_camera_day")
KINDS = EVENT_KINDS + COUNT_KINDS + SEARCH_KINDS
# Names `--kinds` accepts besides single kinds.
GROUPS = {"events": EVENT_KINDS, "counts": COUNT_KINDS, "search": SEARCH_KINDS, "all": KINDS}
# Plain-language queries of the kind `vigil bench search` asks, without relative time words:
# the stored events end at a fixed past date, so "last night" would match nothing; the time
# filter is the `start`/`end` of one stored day instead. PLACE_QUERIES name cameras, zones and
# lines of `generated_cameras(40)` in the benchmark user's tenant; the searches that also
# filter by camera draw from QUERIES only (a place and another camera would match nothing).
QUERIES = (
    "person loitering at night",
    "white van in the loading zone",
    "red car",
    "DHL truck",
    "abandoned suitcase",
    "bus with line 42",
    "black motorcycle speeding",
    "gray car parked for a long time",
    "person crossing in the evening",
    "camera covered",
)
PLACE_QUERIES = (
    "people running near river north",
    "cyclists crossing the bridge line going in",
    "stopped vehicle on station south",
    "crowded north area",
)

Sample = tuple[str, float, int, int | None]


@dataclass(frozen=True)
class Cameras:
    all: list[str]  # every stored camera, of both tenants
    own: list[str]  # those of the benchmark user's tenant


def kinds_of(names: list[str]) -> tuple[str, ...]:
    """The kinds that `names` (kinds or groups, in any order) select, in `KINDS` order."""
    chosen: set[str] = set()
    for name in names:
        if name in GROUPS:
            chosen.update(GROUPS[name])
        elif name in KINDS:
            chosen.add(name)
        else:
            raise ValueError(
                f"unknown kind {name!r}: one of {', '.join([*GROUPS, *KINDS])}"
            )
    return tuple(kind for kind in KINDS if kind in chosen)


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def request_for(
    kind: str, rng: random.Random, cameras: Cameras, end_ms: int, days: int
) -> tuple[str, dict[str, Any]]:
    """The path and parameters of one request of `kind`: one camera and one day of the stored
    span, drawn by `rng`, where the kind filters by camera or time. Searches name one of the
    caller's own cameras: one it may not see would find nothing, and an empty answer costs
    more than a real one (the node then tries the query without each of its filters)."""
    day_start = end_ms - rng.randrange(days) * 86_400_000 - 86_400_000
    day = {"start": _iso(day_start), "end": _iso(day_start + 86_400_000)}
    camera = rng.choice(cameras.all)
    if kind in ("events_page", "events_next_page"):
        return "/api/events", {"limit": 50}
    if kind == "events_camera_day":
        return "/api/events", {"camera": camera, **day, "limit": 50}
    if kind == "counts_day":
        return "/api/counts", {"camera": camera, **day, "interval": 3600}
    if kind == "search":
        return "/api/search", {"q": rng.choice(QUERIES + PLACE_QUERIES), "tz": "UTC", "limit": 24}
    search: dict[str, Any] = {"q": rng.choice(QUERIES), "tz": "UTC", "limit": 24}
    camera = rng.choice(cameras.own)
    if kind == "search_camera":
        return "/api/search", {**search, "camera": camera}
    if kind == "search_camera_day":
        return "/api/search", {**search, "camera": camera, **day}
    raise ValueError(f"unknown kind {kind!r}")


async def _loop(
    connection: Connection,
    rng: random.Random,
    kinds: tuple[str, ...],
    cameras: Cameras,
    end_ms: int,
    days: int,
    until: float,
    samples: list[Sample],
) -> None:
    try:
        while time.monotonic() < until:
            kind = rng.choice(kinds)
            path, params = request_for(kind, rng, cameras, end_ms, days)
            started = time.perf_counter()
            status, body = await connection.get(path, params)
            if kind == "events_next_page" and status == 200:
                cursor = json.loads(body).get("next_cursor")
                if cursor:  # the second page is what is timed
                    started = time.perf_counter()
                    status, body = await connection.get(path, {**params, "cursor": cursor})
            seconds = time.perf_counter() - started
            hits = None
            if kind in SEARCH_KINDS and status == 200:
                # Counted so that a broken index (fast, empty answers) shows in the result.
                hits = len(json.loads(body)["items"])
            samples.append((kind, seconds, status, hits))
    finally:
        await connection.close()


def run_clients(
    port: int,
    token: str,
    clients: int,
    kinds: tuple[str, ...],
    cameras: Cameras,
    end_ms: int,
    days: int,
    duration_s: float,
    seed: int,
    go: Any,
    result: Any,
) -> None:
    async def run() -> list[Sample]:
        samples: list[Sample] = []
        headers = {"Authorization": f"Bearer {token}", "X-Vigil-Purpose": "benchmark"}
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        until = time.monotonic() + duration_s
        rng = random.Random(seed)
        await asyncio.gather(
            *(
                _loop(
                    Connection(port, headers),
                    random.Random(rng.random()),
                    kinds,
                    cameras,
                    end_ms,
                    days,
                    until,
                    samples,
                )
                for _ in range(clients)
            )
        )
        return samples

    result.put(asyncio.run(run()))
