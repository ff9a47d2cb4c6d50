"""Try a camera URL once before it is saved: open it, decode one frame, and say in plain words
why not when that fails.

Integrators add cameras by trial: a wrong password, a typo in the host, an HTTP page where a
stream was expected. The sources already raise operator-phrased `SourceError`s; this module
sorts them into the few kinds the setup page explains differently (and that a script can act
on) and keeps the first frame, which the API blurs before it shows it.

A probe is a request the server makes for whoever typed the URL, so a tenant's probe is held
to the source policy exactly as the camera would be: checked before anything is contacted and
again at every connection the source makes (DNS answers, redirects). A refusal is reported as
"refused by policy" and nothing more; the log keeps why.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np

from vigil.domain.source_urls import redact
from vigil.sources.base import REFUSED_BY_POLICY, SourceError, SourceOptions
from vigil.sources.factory import create_source
from vigil.sources.policy import SourcePolicy

log = logging.getLogger(__name__)

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
    """The one place a setup probe connects to a camera. With `options.policy` the URL is
    checked before the source is made, and the source checks every address it connects to."""
    if options.policy is not None:
        options.policy.check_url(url)
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
    policy: SourcePolicy | None = None,
) -> ProbeResult:
    """Open `url`, read its first frame, close it. With `policy` (a URL a tenant chose) a URL
    or address the policy refuses is never contacted and is reported as kind 'policy'."""
    started = time.monotonic()
    shown = redact(url)
    options = SourceOptions(
        analysis_fps=1.0,
        loop=False,
        open_timeout_s=timeout_s,
        read_timeout_s=timeout_s,
        policy=policy,
    )
    try:
        frame, fps = _first_frame(url, options, max_reads)
    except SourceError as error:
        elapsed = time.monotonic() - started
        if error.public == REFUSED_BY_POLICY:
            log.warning("probe of %s refused: %s", shown, error)
            return ProbeResult(False, "policy", f"{shown}: {REFUSED_BY_POLICY}", elapsed_s=elapsed)
        return _failed(str(error), elapsed)
    except ValueError as error:
        return _failed(str(error), time.monotonic() - started)
    height, width = frame.shape[:2]
    return ProbeResult(
        True,
        None,
        f"{shown}: {width}×{height} video" + (f" at {fps:.3g} fps" if fps else ""),
        frame=frame,
        nominal_fps=fps,
        elapsed_s=time.monotonic() - started,
    )


def _failed(message: str, elapsed_s: float) -> ProbeResult:
    kind = classify_problem(message)
    return ProbeResult(False, kind, f"{HINTS[kind]} ({message})", elapsed_s=elapsed_s)
