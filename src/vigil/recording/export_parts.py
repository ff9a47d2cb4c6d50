"""A long evidence export from the command line: the range cut into parts the API exports one
by one (each at most 10 minutes, as one request may be), each part its own face-blurred MP4
whose SHA-256 the audit log records — so every file stays verifiable with `vigil export verify`,
and the progress of a long export can be shown part by part."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from vigil.domain.namespaces import path_segment
from vigil.recording import MAX_CLIP_MS


class ExportFailed(Exception):
    """The server refused a part (no permission, no purpose, a bad range): the message says why."""


@dataclass(frozen=True, slots=True)
class Part:
    start_ms: int
    end_ms: int
    path: Path | None  # None: nothing recorded in this part
    sha256: str | None


def parts(start_ms: int, end_ms: int, part_ms: int) -> Iterator[tuple[int, int]]:
    """[start, end) cut into consecutive ranges of at most `part_ms`."""
    at = start_ms
    while at < end_ms:
        yield at, min(at + part_ms, end_ms)
        at += part_ms


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def export_parts(
    client: httpx.Client,
    camera_id: str,
    start_ms: int,
    end_ms: int,
    out_dir: Path,
    *,
    part_ms: int = 60_000,
    case_id: str | None = None,
    progress: Callable[[int], None] = lambda _done_ms: None,
) -> list[Part]:
    """Exports every part through `client` (the API, with the caller's token and purpose, and
    a timeout long enough for one part's encoding),
    writes each MP4 into `out_dir`, and reports each part's span of the range to `progress`."""
    if not 0 < part_ms <= MAX_CLIP_MS:
        raise ValueError(f"part_ms: a part spans 1 ms to {MAX_CLIP_MS // 60_000} minutes")
    out_dir.mkdir(parents=True, exist_ok=True)
    done: list[Part] = []
    for number, (start, end) in enumerate(parts(start_ms, end_ms, part_ms), 1):
        body: dict[str, object] = {"start": _iso(start), "end": _iso(end)}
        if case_id is not None:
            body["case_id"] = case_id
        response = client.post(f"/api/recordings/{camera_id}/export", json=body)
        if response.status_code == 404 and "nothing recorded" in response.text:
            done.append(Part(start, end, None, None))  # a gap in the recording
        elif response.status_code != 200:
            raise ExportFailed(_detail(response))
        else:
            path = out_dir / f"{path_segment(camera_id)}-{start}-part{number:03d}.mp4"
            path.write_bytes(response.content)
            done.append(Part(start, end, path, response.headers.get("X-Vigil-SHA256")))
        progress(end - start)
    return done


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    return f"the server refused the export ({response.status_code}): {detail}"
