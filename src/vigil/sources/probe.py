"""Try a camera URL once before it is saved: open it, decode one frame, and say in plain words
why not when that fails.

Integrators add cameras by trial: a wrong password, a typo in the host, an HTTP page where a
stream was expected. The sources already raise operator-phrased `SourceError`s; this module
sorts them into the few kinds the setup page explains differently (and that a script can act
on) and keeps the first frame, which the API blurs before it shows it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from vigil.domain.source_urls import redact
from vigil.sources.base import SourceError, SourceOptions
from vigil.sources.factory import create_source

ProblemKind = Literal["auth", "unreachable", "refused", "not_found", "not_video", "codec", "policy"]

# Checked in order: the first pattern found in the source's message names the kind.
_KINDS: list[tuple[ProblemKind, re.Pattern[str]]] = [
    ("auth", re.compile(r"\b401\b|\b403\b|unauthori[sz]ed|forbidden|authenticat", re.I)),
    ("refused", re.compile(r"connection refused", re.I)),
    ("not_found", re.compile(r"\b404\b|not found|no such file", re.I)),
    ("codec", re.compile(r"decoder|codec|unsupported|not implemented", re.I)),
    (
        "unreachable",
        re.compile(
            r"no answer|timed? ?out|unreachable|no route|name or service|resolve|"
            r"temporary failure|host is down|cannot connect",
            re.I,
        ),
    ),
    (
        "not_video",
        re.compile(r"no video|invalid data|expected an|not a readable|no decodable|answered", re.I),
    ),
]

HINTS: dict[ProblemKind, str] = {
    "auth": "the camera refused the user name or password",
    "refused": "the host answered but nothing accepts connections on that port",
    "not_found": "the address has no stream at that path (or the file does not exist)",
    "codec": "the stream's video codec cannot be decoded here",
    "unreachable": "the camera cannot be reached: check the host, the port and the network",
    "not_video": "the address answered but not with a video stream",
    "policy": "the server's source policy does not allow this address",
}


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ok: bool
    problem: ProblemKind | None
    message: str  # for people: what happened, with credentials masked
    frame: np.ndarray | None = None  # BGR, unredacted: the caller blurs before showing it
    nominal_fps: float | None = None
    elapsed_s: float = 0.0


def classify_problem(message: str) -> ProblemKind:
    for kind, pattern in _KINDS:
        if pattern.search(message):
            return kind
    return "not_video"


def _first_frame(
    url: str, options: SourceOptions, max_reads: int
) -> tuple[np.ndarray, float | None]:
    """The one place a setup probe connects to a camera. A check that may refuse addresses
    (the tenant source policy) belongs before `create_source` here, raising SourceError."""
    source = create_source(url, options)
    source.open()
    try:
        for _ in range(max_reads):
            raw = source.read()
            if raw is None:
                break
            return raw.to_bgr(), source.nominal_fps
        raise SourceError(f"{redact(url)} ended before it delivered a video frame")
    finally:
        source.close()


def probe(
    url: str,
    *,
    timeout_s: float = 8.0,
    max_reads: int = 50,
    check: Callable[[str], None] | None = None,
) -> ProbeResult:
    """Open `url`, read its first frame, close it. `check` may refuse the URL by raising
    PermissionError (a policy), which is reported as kind 'policy'."""
    started = time.monotonic()
    shown = redact(url)
    if check is not None:
        try:
            check(url)
        except PermissionError as refusal:
            return ProbeResult(False, "policy", f"{shown}: {refusal}", elapsed_s=0.0)
    options = SourceOptions(
        analysis_fps=1.0, loop=False, open_timeout_s=timeout_s, read_timeout_s=timeout_s
    )
    try:
        frame, fps = _first_frame(url, options, max_reads)
    except (SourceError, ValueError) as error:
        message = str(error)
        kind = classify_problem(message)
        return ProbeResult(
            False, kind, f"{HINTS[kind]} ({message})", elapsed_s=time.monotonic() - started
        )
    height, width = frame.shape[:2]
    return ProbeResult(
        True,
        None,
        f"{shown}: {width}×{height} video" + (f" at {fps:.3g} fps" if fps else ""),
        frame=frame,
        nominal_fps=fps,
        elapsed_s=time.monotonic() - started,
    )
