"""How the live wall judges a camera: the picture's age, amber and red past the thresholds,
and the reason told apart by where the delay sits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vigil.api.camera_health import AMBER_AGE_S, RED_AGE_S, DropMeter, assess
from vigil.domain.frames import CameraStatus

NOW = 1_800_000_000_000
LIVE = CameraStatus(
    camera_id="gate",
    name="Gate",
    tenant="default",
    online=True,
    input_fps=25.0,
    analysed_fps=5.0,
    lag_ms=100.0,
    dropped_frames=0,
    reconnects=0,
    last_error=None,
    picture_ms=NOW - 400,
    source_frame_ms=NOW - 40,
)


def judge(status: CameraStatus, dropped: int = 0) -> tuple[str, float | None, list[str]]:
    health = assess(status, now_ms=NOW, analysis_fps=5.0, dropped_recently=dropped)
    return health.level, health.picture_age_s, [r.text for r in health.reasons]


def test_a_current_picture_is_ok_and_says_its_age() -> None:
    assert judge(LIVE) == ("ok", 0.4, [])


def test_a_source_that_is_current_with_old_analysis_is_an_inference_backlog() -> None:
    behind = replace(LIVE, picture_ms=NOW - round(AMBER_AGE_S * 1000) - 3000)
    level, age, reasons = judge(behind)
    assert (level, age) == ("amber", AMBER_AGE_S + 3)
    assert reasons == [f"inference backlog: analysis is {AMBER_AGE_S + 3:.1f} s behind the camera"]


def test_a_source_that_stopped_delivering_is_decode_lag_and_red_past_the_larger_threshold() -> None:
    stalled = replace(
        LIVE,
        picture_ms=NOW - round(RED_AGE_S * 1000) - 5000,
        source_frame_ms=NOW - round(RED_AGE_S * 1000) - 4000,
    )
    level, _, reasons = judge(stalled)
    assert level == "red"
    assert reasons == [f"decode lag: the source's last frame came {RED_AGE_S + 4:.1f} s ago"]


def test_an_offline_camera_is_red_while_reconnecting_with_the_error() -> None:
    down = replace(LIVE, online=False, last_error="connection refused")
    assert judge(down) == ("red", None, ["reconnecting to the source: connection refused"])


@pytest.mark.parametrize(
    ("status", "dropped", "expected"),
    [
        (LIVE, 7, "frames dropped: 7 in the last 30 s"),
        (replace(LIVE, analysed_fps=1.2), 0, "analysis slow: 1.2 of 5.0 frames per second"),
        (replace(LIVE, picture_ms=None), 0, "waiting for the first analysed frame"),
    ],
)
def test_amber_reasons_of_a_current_picture(
    status: CameraStatus, dropped: int, expected: str
) -> None:
    level, _, reasons = judge(status, dropped)
    assert (level, reasons) == ("amber", [expected])


def test_the_drop_meter_counts_only_the_recent_drops() -> None:
    meter = DropMeter()
    assert meter.recent("gate", 10, now_s=0.0) == 0
    assert meter.recent("gate", 14, now_s=10.0) == 4
    assert meter.recent("gate", 14, now_s=45.0) == 0  # the drops are older than 30 s
    assert meter.recent("dock", 3, now_s=45.0) == 0  # a camera's first sample
