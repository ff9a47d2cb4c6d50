"""The analytics modules on real footage: the bundled CCTV clip (media/vtest.mp4, 768×576,
10 fps, 79.5 s of pedestrians on a campus road, a van and a car parked at the top right, and a
piece of litter on the lawn that the detector calls "sports ball").

The clip is detected and tracked once (5 fps, as the demo analyses it); every test replays those
tracks through its modules. Expected results are derived from the tracks themselves (who walks
which way, who stands where), never copied from a previous run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import av
import cv2
import numpy as np
import pytest
import supervision as sv

from tests.media import CLIP, LINE, ZONE
from vigil.config import CameraConfig, DetectorConfig, TrackerConfig, parse_camera
from vigil.domain.events import Phase
from vigil.domain.frames import Frame
from vigil.domain.geometry import points_in_polygon
from vigil.modules.base import Sample, Signal, Tracks
from vigil.modules.geometry import anchors
from vigil.modules.registry import build_modules
from vigil.pipeline.camera import CameraPipeline
from vigil.vision.detector import OnnxDetector
from vigil.vision.tracker import CameraTracker

FPS = 5
WALKWAY = ZONE  # the road people walk along, and the demo's counting line across it
LAWN = {
    "name": "lawn",
    "polygon": [[0, 285], [250, 320], [430, 395], [768, 490], [768, 576], [0, 576]],
}
CAR_PARK = {"name": "car-park", "polygon": [[600, 55], [768, 55], [768, 125], [600, 125]]}
# A rough ground calibration: a pinhole camera with a 60° field of view fitted to the heights of
# the detected pedestrians (taken as 1.7 m): 5 m above the road, tilted 23° down. Lateral
# distances (how people mostly walk here) hardly depend on the assumed field of view.
CALIBRATION = {
    "image_points": [[100, 200], [668, 200], [668, 550], [100, 550]],
    "ground_points": [[-7.86, 17.87], [7.86, 17.87], [2.84, 5.07], [-2.84, 5.07]],
}
# The camera clock: the clip plays on Saturday 1 June 2024 from 22:00 in London.
SATURDAY_NIGHT = int(
    datetime(2024, 6, 1, 22, 0, tzinfo=ZoneInfo("Europe/London")).timestamp() * 1000
)


@dataclass
class Clip:
    times: list[int]  # ms from the clip's start
    detections: list[sv.Detections]  # what the detector saw on each analysed frame
    tracks: list[sv.Detections]  # confirmed tracks, as the pipeline's tracker reports them


@pytest.fixture(scope="module")
def clip() -> Clip:
    detector = OnnxDetector(DetectorConfig())
    tracker = CameraTracker(TrackerConfig(), FPS)
    times, images = [], []
    with av.open(str(CLIP)) as container:
        for index, decoded in enumerate(container.decode(video=0)):
            if index % (10 // FPS) == 0:
                times.append(round(float(decoded.time or 0) * 1000))
                images.append(decoded.to_ndarray(format="bgr24"))
    detections: list[sv.Detections] = []
    for start in range(0, len(images), 8):
        detections += detector.detect(images[start : start + 8])
    tracks = [tracker.update(d, SATURDAY_NIGHT + t) for d, t in zip(detections, times, strict=True)]
    return Clip(times, detections, tracks)


def clip_camera(modules: dict[str, Any], calibrated: bool = False) -> CameraConfig:
    data: dict[str, Any] = {
        "id": "plaza",
        "url": str(CLIP),
        "zones": [WALKWAY, LAWN, CAR_PARK],
        "lines": [LINE],
        "modules": modules,
    }
    if calibrated:
        data["calibration"] = CALIBRATION
    return parse_camera(data)


@dataclass
class Replay:
    signals: list[tuple[int, Signal]]
    samples: list[tuple[int, Sample]]

    def starts(self) -> list[tuple[int, Signal]]:
        return [(ts, s) for ts, s in self.signals if s.phase is Phase.START]


def replay(
    clip: Clip,
    name: str,
    settings: dict[str, Any],
    speed: float = 1.0,
    calibrated: bool = False,
    start_ms: int = SATURDAY_NIGHT,
) -> Replay:
    """The clip's tracks through one module; `speed` > 1 plays it fast-forward (time runs
    faster on the camera clock, as if everybody moved `speed` times faster)."""
    (module,) = build_modules(clip_camera({name: settings}, calibrated))
    signals, samples = [], []
    for t, tracks in zip(clip.times, clip.tracks, strict=True):
        view = Tracks("plaza", start_ms + round(t / speed), tracks, (576, 768))
        signals += [(view.ts_ms, s) for s in module.update(view)]
        samples += [(view.ts_ms, s) for s in module.measure(view)]
    signals += [(-1, s) for s in module.finish(start_ms + round(clip.times[-1] / speed))]
    return Replay(signals, samples)


def people(tracks: sv.Detections) -> np.ndarray:
    return np.asarray(tracks.data["class_name"] == "person")


def steady_walkers(clip: Clip) -> dict[str, set[int]]:
    """People who walk along the walkway in one direction: at least 250 px east or west, never
    turning back by more than 30 px."""
    xs: dict[int, list[float]] = {}
    for tracks in clip.tracks:
        points = anchors(tracks)
        on_walkway = points_in_polygon(points, WALKWAY["polygon"]) & people(tracks)
        for track, (x, _) in zip(tracks.tracker_id[on_walkway], points[on_walkway], strict=True):
            xs.setdefault(int(track), []).append(float(x))
    walkers: dict[str, set[int]] = {"east": set(), "west": set()}
    for track, path in xs.items():
        for direction, sign in (("east", 1.0), ("west", -1.0)):
            along = sign * np.asarray(path)
            setback = float(np.max(np.maximum.accumulate(along) - along))
            if along[-1] - along[0] >= 250 and setback <= 30:
                walkers[direction].add(track)
    return walkers


def test_occupancy_counts_the_people_on_the_walkway_and_flags_lasting_crowds(clip: Clip) -> None:
    contour = np.array(WALKWAY["polygon"], dtype=np.float32)
    expected = [
        sum(
            cv2.pointPolygonTest(contour, (float(x), float(y)), False) > 0
            for x, y in anchors(tracks)[people(tracks)]
        )
        for tracks in clip.tracks
    ]
    result = replay(clip, "occupancy", {"zones": ["walkway"], "min_count": 1})
    counts = [int(s.value) for _, s in result.samples if s.metric == "occupancy"]
    assert counts == expected
    peak = max(counts)
    assert peak >= 4  # the clip has busy moments
    # Crowds of at least `peak - 2` for 3 s: each is reported once it has lasted 3 s, with
    # its size; a crowd of one more than the clip ever shows is never reported.
    size = peak - 2
    at = dict(zip((SATURDAY_NIGHT + t for t in clip.times), counts, strict=True))
    settings = {"zones": ["walkway"], "min_count": size, "min_duration_s": 3, "clear_s": 1}
    crowds = replay(clip, "occupancy", settings)
    assert crowds.starts()
    for ts, start in crowds.starts():
        assert start.attributes["count"] == at[ts] >= size and start.zone == "walkway"
        assert ts - start.attributes["since_ms"] >= 3000
        assert start.track_id is None  # a scene event, about no single person
    never = {"zones": ["walkway"], "min_count": peak + 1, "min_duration_s": 0}
    assert replay(clip, "occupancy", never).signals == []


def test_wrong_way_flags_walkers_against_the_lane_and_only_them(clip: Clip) -> None:
    walkers = steady_walkers(clip)
    assert walkers["east"] and walkers["west"]  # people walk both ways in the clip
    for allowed, angle, against in (("east", 0, "west"), ("west", 180, "east")):
        settings = {"lanes": [{"zone": "walkway", "angle_deg": angle}], "classes": ["person"]}
        flagged = {s.track_id for _, s in replay(clip, "wrong_way", settings).starts()}
        assert walkers[against] <= flagged, f"lane {allowed}: missed {walkers[against] - flagged}"
        assert not walkers[allowed] & flagged, f"lane {allowed}: flagged {walkers[allowed]}"


def test_nobody_runs_in_the_clip_but_fast_forward_makes_walkers_runners(clip: Clip) -> None:
    assert replay(clip, "running", {}).signals == []
    walkers = steady_walkers(clip)
    steady = walkers["east"] | walkers["west"]
    # Three times faster: a 0.8 heights/s walk becomes a 2.4 heights/s run.
    runners = {s.track_id for _, s in replay(clip, "running", {}, speed=3).starts()}
    assert steady <= runners
    assert {s.class_name for _, s in replay(clip, "running", {}, speed=3).starts()} == {"person"}


def test_speed_of_pedestrians_is_a_walking_pace_and_parked_vehicles_stand(clip: Clip) -> None:
    settings = {"classes": ["person", "car", "truck"], "limit_kmh": 25}
    result = replay(clip, "speed", settings, calibrated=True)
    by_class: dict[str | None, list[float]] = {}
    for _, sample in result.samples:
        by_class.setdefault(sample.class_name, []).append(sample.value)
    assert 2.5 <= float(np.median(by_class["person"])) <= 7.0  # km/h
    parked = by_class.get("car", []) + by_class.get("truck", [])
    assert parked and float(np.median(parked)) < 3.0
    assert result.signals == []  # nobody over 25 km/h
    fast = replay(clip, "speed", settings, speed=10, calibrated=True)  # everyone 10× faster
    assert {s.class_name for _, s in fast.starts()} == {"person"}


def test_traffic_flow_counts_agree_with_the_line_module(clip: Clip) -> None:
    settings = {"lines": ["lamp-post"], "classes": ["person"]}
    flow = replay(clip, "traffic_flow", settings, calibrated=True)
    counted = sum(s.value for _, s in flow.samples if s.metric == "flow_count")
    crossings = replay(clip, "line", {"classes": ["person"]}).signals
    assert counted == len(crossings) >= 4
    speeds = [s.value for _, s in flow.samples if s.metric == "mean_speed_kmh"]
    assert speeds and 2.0 <= float(np.mean(speeds)) <= 8.0


def test_parked_vehicles_occupy_their_slots_for_good_and_an_empty_slot_stays_free(
    clip: Clip,
) -> None:
    slots = [
        {"name": "van", "polygon": [[650, 45], [725, 45], [725, 100], [650, 100]]},
        {"name": "hatchback", "polygon": [[735, 45], [768, 45], [768, 100], [735, 100]]},
        {"name": "hatched", "polygon": [[380, 130], [480, 130], [480, 170], [380, 170]]},
    ]
    result = replay(clip, "parking", {"slots": slots, "occupy_s": 5, "vacate_s": 5})
    events = {}
    for ts, signal in result.signals:
        events.setdefault(signal.zone, []).append((ts, signal.phase))
    # One stay per parked vehicle, despite detector dropouts and van/car class flicker; it
    # only ends when the camera stops (finish, ts -1).
    assert {slot: [p for _, p in seq] for slot, seq in events.items()} == {
        "van": [Phase.START, Phase.END],
        "hatchback": [Phase.START, Phase.END],
    }
    assert all(seq[-1][0] == -1 for seq in events.values())
    final = {(s.metric, s.place): s.value for _, s in result.samples[-5:]}  # the last frame
    assert final == {
        ("occupied_slots", None): 2,
        ("free_slots", None): 1,
        ("occupied", "van"): 1,
        ("occupied", "hatchback"): 1,
        ("occupied", "hatched"): 0,
    }


def test_the_parked_vehicles_are_stopped_vehicles_and_nothing_else(clip: Clip) -> None:
    settings = {"zones": ["car-park"], "duration_s": 30}
    result = replay(clip, "stopped_vehicle", settings)
    starts = result.starts()
    assert len(starts) == 2 and {s.class_name for _, s in starts} <= {"car", "truck", "bus"}
    first_seen = SATURDAY_NIGHT + clip.times[0]
    assert all(ts - first_seen >= 30000 for ts, _ in starts)
    assert [s.attributes["reason"] for ts, s in result.signals if s.phase is Phase.END] == [
        "stopped",
        "stopped",
    ]  # they never leave
    assert replay(clip, "stopped_vehicle", {"zones": ["walkway"], "duration_s": 30}).signals == []


def test_litter_left_on_the_lawn_is_abandoned_until_someone_passes_by(clip: Clip) -> None:
    settings = {"classes": ["sports ball"], "duration_s": 10, "attended_distance_px": 150}
    result = replay(clip, "abandoned", settings)
    starts = result.starts()
    assert starts
    by_ts = {SATURDAY_NIGHT + t: tracks for t, tracks in zip(clip.times, clip.tracks, strict=True)}
    first = min(
        ts for ts, tracks in by_ts.items() if np.any(tracks.data["class_name"] == "sports ball")
    )
    for ts, start in starts:
        assert ts - first >= 10000 and start.class_name == "sports ball"
        x1, _, x2, y2 = start.box or (0, 0, 0, 0)
        assert points_in_polygon(np.array([[(x1 + x2) / 2, y2]]), LAWN["polygon"])[0]
        nearest = _nearest_person(by_ts[ts], start)
        assert nearest > 150  # nobody near when it is reported
    for ts, end in result.signals:
        if end.phase is Phase.END and end.attributes.get("reason") == "attended":
            assert _nearest_person(by_ts[ts], end) <= 150


def _nearest_person(tracks: sv.Detections, signal: Signal) -> float:
    x1, _, x2, y2 = signal.box or (0, 0, 0, 0)
    walkers = anchors(tracks)[people(tracks)]
    if not len(walkers):
        return float("inf")
    return float(np.min(np.linalg.norm(walkers - [(x1 + x2) / 2, y2], axis=1)))


def test_walking_on_the_lawn_at_night_is_an_intrusion_at_noon_on_monday_it_is_not(
    clip: Clip,
) -> None:
    settings = {
        "zones": ["lawn"],
        "timezone": "Europe/London",
        "allowed": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "19:00"}
        ],
    }
    night = replay(clip, "intrusion", settings)
    on_lawn: dict[int, int] = {}
    for tracks in clip.tracks:
        inside = points_in_polygon(anchors(tracks), LAWN["polygon"]) & people(tracks)
        for track in tracks.tracker_id[inside]:
            on_lawn[int(track)] = on_lawn.get(int(track), 0) + 1
    intruders = {s.track_id for _, s in night.starts()}
    assert intruders  # people cross the lawn in the clip
    assert intruders <= set(on_lawn)  # nobody who stayed on the road
    assert {track for track, frames in on_lawn.items() if frames >= 3 * FPS} <= intruders
    local = night.starts()[0][1].attributes["local_time"]
    assert local.startswith("2024-06-01T22:") and local.endswith("+01:00")  # BST
    monday_noon = int(datetime(2024, 6, 3, 12, 0, tzinfo=ZoneInfo("Europe/London")).timestamp())
    assert replay(clip, "intrusion", settings, start_ms=monday_noon * 1000).signals == []


def test_the_modules_run_in_the_camera_pipeline(clip: Clip) -> None:
    """Config → pipeline → module → event lifecycle and statistics series, on the clip's own
    detections (a blank image stands in for the pixels: no module here looks at them)."""
    camera = clip_camera(
        {
            "occupancy": {"zones": ["walkway"], "min_count": 3, "min_duration_s": 2},
            "stopped_vehicle": {"zones": ["car-park"], "duration_s": 30},
            "parking": {
                "slots": [
                    {"name": "van", "polygon": [[650, 45], [725, 45], [725, 100], [650, 100]]}
                ]
            },
            "speed": {"limit_kmh": None},
        },
        calibrated=True,
    )
    pipeline = CameraPipeline(camera, TrackerConfig())
    blank = np.zeros((576, 768, 3), dtype=np.uint8)
    messages = []
    for seq, (t, detections) in enumerate(zip(clip.times, clip.detections, strict=True)):
        frame = Frame("plaza", seq, SATURDAY_NIGHT + t, blank)
        messages += [message for message, _ in pipeline.process(frame, detections)]
    messages += [message for message, _ in pipeline.close()]
    events = {m.event.id: m.event for m in messages}
    by_module: dict[str, list[Any]] = {}
    for event in events.values():
        by_module.setdefault(event.module, []).append(event)
    assert all(e.object is None and e.zone == "walkway" for e in by_module["occupancy"])
    assert {e.object.class_name for e in by_module["stopped_vehicle"]} <= {"car", "truck", "bus"}
    assert len(by_module["parking"]) == 1 and by_module["parking"][0].zone == "van"
    assert all(e.state == "ended" for e in events.values())
    series = {(p.module, p.metric) for p in pipeline.take_series()}
    assert {
        ("occupancy", "occupancy"),
        ("parking", "occupied_slots"),
        ("speed", "speed_kmh"),
    } <= series
