"""A client process of `vigil bench api`: `clients` concurrent request loops for a fixed time,
each request drawn from the mix; returns (kind, seconds, status) samples."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx

KINDS = ("events_page", "events_next_page", "events_camera_day", "counts_day")


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


async def _loop(
    client: httpx.AsyncClient,
    rng: random.Random,
    cameras: list[str],
    end_ms: int,
    days: int,
    until: float,
    samples: list[tuple[str, float, int]],
) -> None:
    while time.monotonic() < until:
        kind = rng.choice(KINDS)
        day_start = end_ms - rng.randrange(days) * 86_400_000 - 86_400_000
        camera = rng.choice(cameras)
        params: dict[str, Any]
        if kind == "events_page" or kind == "events_next_page":
            path, params = "/api/events", {"limit": 50}
        elif kind == "events_camera_day":
            path, params = (
                "/api/events",
                {
                    "camera": camera,
                    "start": _iso(day_start),
                    "end": _iso(day_start + 86_400_000),
                    "limit": 50,
                },
            )
        else:
            path, params = (
                "/api/counts",
                {
                    "camera": camera,
                    "start": _iso(day_start),
                    "end": _iso(day_start + 86_400_000),
                    "interval": 3600,
                },
            )
        started = time.perf_counter()
        response = await client.get(path, params=params)
        if kind == "events_next_page" and response.status_code == 200:
            cursor = response.json().get("next_cursor")
            if cursor:  # the second page is what is timed
                started = time.perf_counter()
                response = await client.get(path, params={**params, "cursor": cursor})
        samples.append((kind, time.perf_counter() - started, response.status_code))


def run_clients(
    port: int,
    token: str,
    clients: int,
    cameras: list[str],
    end_ms: int,
    days: int,
    duration_s: float,
    seed: int,
    go: Any,
    result: Any,
) -> None:
    async def run() -> list[tuple[str, float, int]]:
        samples: list[tuple[str, float, int]] = []
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        headers = {"Authorization": f"Bearer {token}", "X-Vigil-Purpose": "benchmark"}
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits, timeout=60
        ) as client:
            await asyncio.get_running_loop().run_in_executor(None, go.wait)
            until = time.monotonic() + duration_s
            rng = random.Random(seed)
            await asyncio.gather(
                *(
                    _loop(
                        client, random.Random(rng.random()), cameras, end_ms, days, until, samples
                    )
                    for _ in range(clients)
                )
            )
        return samples

    result.put(asyncio.run(run()))
