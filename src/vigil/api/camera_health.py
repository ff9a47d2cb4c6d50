"""Whether a camera's live view can be trusted, and if not, why: the age of its picture, and
amber or red with the reason when it falls behind.

"Online" alone lies: a camera can deliver frames while the analysis falls a minute behind, and
the wall would stay green. The picture's age is measured when asked (now minus the capture
time of the latest analysed frame), so a stalled pipeline shows at once, and the reason is
told apart by where the delay sits: the source stopped delivering (decode lag), the source is
current but the analysis is behind (inference backlog), frames are being dropped to keep up,
or the source is being reconnected.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from vigil.domain.frames import CameraStatus

AMBER_AGE_S = 2.0  # a picture older than this is not "live" any more
RED_AGE_S = 10.0  # an operator acting on it would act on the past
DROP_WINDOW_S = 30.0  # dropped frames count as a reason while they happened this recently
SLOW_SHARE = 0.5  # analysed fps below this share of the camera's analysis_fps is amber

Level = Literal["ok", "amber", "red"]
Code = Literal[
    "reconnecting",
    "no_picture",
    "decode_lag",
    "inference_backlog",
    "frames_dropped",
    "analysis_slow",
    "disabled",
]


@dataclass(frozen=True, slots=True)
class Reason:
    code: Code
    level: Level
    text: str


@dataclass(frozen=True, slots=True)
class Health:
    level: Level
    picture_age_s: float | None
    reasons: list[Reason]


@dataclass
class DropMeter:
    """Dropped-frame counters sampled at each health request, per camera: how many were
    dropped within the last DROP_WINDOW_S seconds (the engine only keeps a running total)."""

    samples: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def recent(self, camera_id: str, total: int, now_s: float | None = None) -> int:
        now_s = time.monotonic() if now_s is None else now_s
        with self.lock:
            history = self.samples.setdefault(camera_id, deque())
            history.append((now_s, total))
            while len(history) > 1 and history[1][0] <= now_s - DROP_WINDOW_S:
                history.popleft()
            return max(0, total - history[0][1])


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.1f} s"


def assess(
    status: CameraStatus,
    *,
    now_ms: int,
    analysis_fps: float,
    dropped_recently: int,
    enabled: bool = True,
) -> Health:
    if not enabled:
        return Health("red", None, [Reason("disabled", "red", "the camera is disabled")])
    if not status.online:
        detail = f": {status.last_error}" if status.last_error else ""
        return Health(
            "red", None, [Reason("reconnecting", "red", f"reconnecting to the source{detail}")]
        )
    reasons: list[Reason] = []
    age_ms = None if status.picture_ms is None else max(0, now_ms - status.picture_ms)
    if age_ms is None:
        reasons.append(Reason("no_picture", "amber", "waiting for the first analysed frame"))
    elif age_ms > AMBER_AGE_S * 1000:
        level: Level = "red" if age_ms > RED_AGE_S * 1000 else "amber"
        source_age = None if status.source_frame_ms is None else now_ms - status.source_frame_ms
        if source_age is not None and source_age > AMBER_AGE_S * 1000:
            reasons.append(
                Reason(
                    "decode_lag",
                    level,
                    f"decode lag: the source's last frame came {_seconds(source_age)} ago",
                )
            )
        else:
            reasons.append(
                Reason(
                    "inference_backlog",
                    level,
                    f"inference backlog: analysis is {_seconds(age_ms)} behind the camera",
                )
            )
    if dropped_recently > 0:
        reasons.append(
            Reason(
                "frames_dropped",
                "amber",
                f"frames dropped: {dropped_recently} in the last {DROP_WINDOW_S:.0f} s",
            )
        )
    expected = min(analysis_fps, status.input_fps) if status.input_fps > 0 else analysis_fps
    if age_ms is not None and status.analysed_fps < SLOW_SHARE * expected:
        reasons.append(
            Reason(
                "analysis_slow",
                "amber",
                f"analysis slow: {status.analysed_fps:.1f} of {expected:.1f} frames per second",
            )
        )
    worst: Level = "ok"
    for reason in reasons:
        if reason.level == "red" or (reason.level == "amber" and worst == "ok"):
            worst = reason.level
    return Health(worst, None if age_ms is None else round(age_ms / 1000, 2), reasons)
