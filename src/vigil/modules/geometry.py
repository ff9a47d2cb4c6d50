"""Tracks over space and time, for the analytics modules: where an object stands, which line
it crossed, how fast it moves, whether it stays put, how long a condition has held.

The plane geometry (calibration, polygons, zone membership) is `vigil.domain.geometry`, which
shared with config validation and privacy. Everything here is pure and
works on numpy arrays of all of a frame's objects at once. Positions are the bottom-centre of a
box: where the object touches the ground, the only image point a ground-plane homography maps
correctly.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import supervision as sv

from vigil.domain.events import Phase
from vigil.domain.geometry import Homography
from vigil.modules.base import Signal, Tracks, signal_for
from vigil.modules.debounce import Debounce

if TYPE_CHECKING:
    from vigil.config import CameraConfig



# ---------------------------------------------------------------- ground calibration


def require_calibration(camera: CameraConfig, module: str, why: str) -> None:
    """Config check for settings that only make sense in metres."""
    if camera.calibration is None:
        raise ValueError(
            f"modules.{module}: {why} needs a ground calibration, and camera {camera.id!r} has "
            "none; add `calibration:` with four `image_points` and their `ground_points` in "
            f"metres (see docs/modules/{module}.md)"
        )


def anchors(detections: sv.Detections) -> np.ndarray:
    """Bottom-centre of every box (N×2): where each object stands."""
    if not len(detections):
        return np.zeros((0, 2))
    return np.asarray(detections.get_anchors_coordinates(sv.Position.BOTTOM_CENTER), np.float64)


class LineCounter:
    """Crossings of one line by objects' ground points, with supervision's `LineZone` (the
    `line` module's semantics: looking from start to end, right-to-left is "in")."""

    def __init__(self, start: tuple[float, float], end: tuple[float, float], min_frames: int):
        self.zone = sv.LineZone(
            start=sv.Point(*start),
            end=sv.Point(*end),
            triggering_anchors=(sv.Position.BOTTOM_CENTER,),
            minimum_crossing_threshold=min_frames,
        )

    def crossed(self, tracks: Tracks) -> list[tuple[int, str]]:
        """(detection index, "in" or "out") of the objects that crossed on this frame."""
        if not len(tracks.detections):
            return []
        crossed_in, crossed_out = self.zone.trigger(tracks.detections)
        return [(int(i), "in") for i in np.flatnonzero(crossed_in)] + [
            (int(i), "out") for i in np.flatnonzero(crossed_out)
        ]


def or_default(value: int | None, default: int) -> int:
    """`value or default` for timestamps, where 0 is a valid time."""
    return default if value is None else value


def select(tracks: Tracks, mask: np.ndarray) -> Tracks:
    """The same frame with only the objects where `mask` is true (for reusing a module's
    logic on a subset, e.g. only slow objects)."""
    subset = tracks.detections[np.asarray(mask, dtype=bool)]
    assert isinstance(subset, sv.Detections)
    return Tracks(tracks.camera_id, tracks.ts_ms, subset, tracks.frame_shape)


# ---------------------------------------------------------------- tracks over time


@dataclass(slots=True)
class _Trail:
    samples: deque[tuple[int, float, float, float, float, float]]  # ts, x, y, gx, gy, height
    last_ms: int


class Motion:
    """Each track's recent positions, to measure its velocity over a time window.

    Frame-to-frame displacement is mostly box jitter at a few frames per second; the net
    displacement over a window (default 1 s) between its oldest and newest position is the
    smoothed velocity. A velocity is known only once the window is at least half covered.
    Ground positions (metres) are kept too when the camera has a calibration.
    """

    def __init__(
        self,
        window_s: float,
        homography: Homography | None = None,
        max_step_mps: float | None = None,
    ) -> None:
        self.window_ms = int(window_s * 1000)
        self.homography = homography
        # A ground step faster than this is the tracker swapping ids, not motion: the trail
        # restarts there, rather than averaging the jump into a second of plausible speeds.
        self.max_step_mps = max_step_mps
        self._trails: dict[int, _Trail] = {}

    def update(self, tracks: sv.Detections, ts_ms: int) -> None:
        ids = _track_ids(tracks)
        points = anchors(tracks)
        ground = (
            self.homography.to_ground(points)
            if self.homography is not None
            else np.full_like(points, np.nan)
        )
        heights = tracks.xyxy[:, 3] - tracks.xyxy[:, 1] if len(tracks) else np.zeros(0)
        rows = np.c_[points, ground, heights].tolist()
        for track_id, (x, y, gx, gy, height) in zip(ids.tolist(), rows, strict=True):
            trail = self._trails.get(track_id)
            if trail is None or self._jumped(trail, ts_ms, gx, gy):
                trail = self._trails[track_id] = _Trail(deque(), ts_ms)
            trail.samples.append((ts_ms, x, y, gx, gy, height))
            trail.last_ms = ts_ms
            while trail.samples[0][0] < ts_ms - self.window_ms:
                trail.samples.popleft()
        for track_id in [t for t, trail in self._trails.items() if trail.last_ms < ts_ms]:
            if ts_ms - self._trails[track_id].last_ms > self.window_ms:
                del self._trails[track_id]

    def _jumped(self, trail: _Trail, ts_ms: int, gx: float, gy: float) -> bool:
        if self.max_step_mps is None or not trail.samples:
            return False
        last = trail.samples[-1]
        seconds = max(ts_ms - last[0], 1) / 1000
        step = float(np.hypot(gx - last[3], gy - last[4]))
        return bool(step / seconds > self.max_step_mps)  # NaN (no ground point) is no jump

    def velocity(self, track_id: int, ground: bool = False) -> tuple[float, float] | None:
        """Smoothed velocity in px/s (or m/s on the ground), None while unknown."""
        span = self._span(track_id)
        if span is None:
            return None
        first, last = span
        seconds = (last[0] - first[0]) / 1000
        dx, dy = (
            (last[3] - first[3], last[4] - first[4])
            if ground
            else (last[1] - first[1], last[2] - first[2])
        )
        if not (np.isfinite(dx) and np.isfinite(dy)):
            return None
        return dx / seconds, dy / seconds

    def speed(self, track_id: int, ground: bool = False) -> float | None:
        velocity = self.velocity(track_id, ground)
        return None if velocity is None else float(np.hypot(*velocity))

    def speed_in_heights(self, track_id: int) -> float | None:
        """Image speed divided by the object's mean box height over the window: a speed in
        "body lengths per second" that does not depend on how far the object is."""
        speed = self.speed(track_id)
        trail = self._trails.get(track_id)
        if speed is None or trail is None:
            return None
        height = float(np.mean([sample[5] for sample in trail.samples]))
        return speed / height if height > 0 else None

    def speeds(self, tracks: sv.Detections, unit: str = "px/s") -> np.ndarray:
        """Smoothed speed of each object of this frame in `unit` ("px/s", "m/s" on the
        ground, or "heights/s"); NaN where not known yet."""
        values = []
        for track_id in _track_ids(tracks).tolist():
            if unit == "heights/s":
                value = self.speed_in_heights(track_id)
            else:
                value = self.speed(track_id, ground=unit == "m/s")
            values.append(np.nan if value is None else value)
        return np.array(values, dtype=np.float64)

    def _span(self, track_id: int) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
        trail = self._trails.get(track_id)
        if trail is None or len(trail.samples) < 2:
            return None
        first, last = trail.samples[0], trail.samples[-1]
        if last[0] - first[0] < self.window_ms / 2:
            return None
        return first, last


@dataclass(slots=True)
class _Over:
    hold: Debounce
    latest: Signal
    peak: float = 0.0
    key: tuple[Any, ...] = ()
    last_emit_ms: int = 0


class TrackHolds:
    """Per track: a measured value (a speed) over a threshold for `min_s`, as an event that
    starts then, is updated every `update_every_s` and ends `clear_s` after the value fell
    back (or the track was last seen)."""

    def __init__(
        self,
        event_type: str,
        value_name: str,
        min_s: float,
        clear_s: float,
        update_every_s: float,
        **attributes: Any,
    ) -> None:
        self.event_type = event_type
        self.value_name = value_name
        self.min_s, self.clear_s = min_s, clear_s
        self.update_every_ms = int(update_every_s * 1000)
        self.attributes = attributes
        self.tracks: dict[int, _Over] = {}
        self.started = 0

    def update(self, tracks: Tracks, values: np.ndarray, over: np.ndarray) -> list[Signal]:
        """`values` per detection (NaN: unknown); `over` where it counts as over the threshold
        (only for the objects this module watches)."""
        now = tracks.ts_ms
        ids = _track_ids(tracks.detections).tolist()
        signals: list[Signal] = []
        seen = set()
        for index, track_id in enumerate(ids):
            state = self.tracks.get(track_id)
            if state is None and not over[index]:
                continue
            seen.add(track_id)
            latest = signal_for(tracks, index, (track_id,), Phase.UPDATE, self.event_type)
            if state is None:
                state = self.tracks[track_id] = _Over(Debounce(self.min_s, self.clear_s), latest)
            state.latest = latest
            value = float(values[index])
            if np.isfinite(value):
                state.peak = value if state.hold.idle else max(state.peak, value)
            signals.extend(self._step(state, now, bool(over[index]), value))
        for track_id, state in list(self.tracks.items()):
            if track_id not in seen:
                signals.extend(self._step(state, now, False, float("nan")))
            if state.hold.idle:
                del self.tracks[track_id]
        return signals

    def _step(self, state: _Over, now: int, over: bool, value: float) -> list[Signal]:
        phase = state.hold.step(now, over)
        if phase is Phase.START:
            self.started += 1
            state.key = (*state.latest.key, now)
            state.last_emit_ms = now
        elif phase is None and (
            not state.hold.active or now - state.last_emit_ms < self.update_every_ms
        ):
            return []
        elif phase is None:
            phase = Phase.UPDATE
            state.last_emit_ms = now
        signal = dataclasses.replace(state.latest, phase=phase, key=state.key)
        signal.attributes = {
            self.value_name: None if np.isnan(value) else round(value, 2),
            f"max_{self.value_name}": round(state.peak, 2),
            **self.attributes,
        }
        if phase is Phase.END and state.hold.ended is not None:
            signal.attributes["duration_s"] = (state.hold.ended[1] - state.hold.ended[0]) / 1000
        return [signal]

    def finish(self) -> list[Signal]:
        ended = []
        for state in self.tracks.values():
            if state.hold.active:
                signal = dataclasses.replace(state.latest, phase=Phase.END, key=state.key)
                signal.attributes = {f"max_{self.value_name}": round(state.peak, 2)}
                ended.append(signal)
        self.tracks.clear()
        return ended


@dataclass(slots=True)
class Stationary:
    """One object that has stayed within `max_movement` of `anchor` since `since_ms`."""

    serial: int
    class_name: str
    anchor: np.ndarray  # image pixels, or ground metres with a calibration
    image_anchor: np.ndarray
    since_ms: int
    last_seen_ms: int
    track_id: int
    index: int | None = None  # index in this frame's detections, None when unseen now


class StationaryObjects:
    """Objects of some classes that stay put, followed by place rather than by track id.

    Detectors lose small or occluded objects for seconds and the tracker then gives them a new
    id; a bag that reappears where it was is still the same bag. So a detection continues the
    stationary object whose anchor is nearest, within `max_movement`. A detection
    of a known track that is farther away has moved: that object ends (`moved`) and a new
    stationary period starts where it is now. An object unseen for `grace_s` is `gone`.
    """

    def __init__(
        self,
        classes: list[str] | None,
        max_movement: float,
        grace_s: float,
        homography: Homography | None = None,
    ) -> None:
        self.classes = classes
        self.max_movement = max_movement
        self.grace_ms = int(grace_s * 1000)
        self.homography = homography
        self.objects: dict[int, Stationary] = {}
        self._serial = 0

    def update(
        self, tracks: sv.Detections, names: np.ndarray, ts_ms: int
    ) -> tuple[list[Stationary], list[Stationary]]:
        """Returns the objects that moved and those that are gone; `objects` holds the rest,
        each with its `index` in this frame's detections (None when unseen now)."""
        for item in self.objects.values():
            item.index = None
        wanted = (
            np.ones(len(tracks), dtype=bool)
            if self.classes is None
            else np.isin(names, self.classes)
        )
        indices = np.flatnonzero(wanted)
        image_points = anchors(tracks)[indices]
        points = (
            self.homography.to_ground(image_points) if self.homography is not None else image_points
        )
        ids = _track_ids(tracks)[indices]
        matched = self._match(points)
        moved: list[Stationary] = []
        taken = {item.serial for item in matched.values()}
        by_track = {item.track_id: item for item in self.objects.values()}
        for row, index in enumerate(indices.tolist()):
            found = matched.get(row)
            if found is None:
                previous = by_track.get(int(ids[row]))
                if previous is not None and previous.serial not in taken:
                    taken.add(previous.serial)
                    moved.append(self.objects.pop(previous.serial))
            item = found or self._new(str(names[index]), points[row], image_points[row], ts_ms)
            item.index, item.track_id, item.last_seen_ms = index, int(ids[row]), ts_ms
            item.class_name = str(names[index])
        gone = [item for item in self.objects.values() if ts_ms - item.last_seen_ms > self.grace_ms]
        for item in gone:
            del self.objects[item.serial]
        return moved, gone

    def _match(self, points: np.ndarray) -> dict[int, Stationary]:
        """Detection row → known object: nearest pairs first, each used once. Classes are not
        compared: detectors flicker between similar ones (a van is "truck", then "car")."""
        known = list(self.objects.values())
        if not known or not len(points):
            return {}
        anchors_ = np.array([item.anchor for item in known])
        distance = np.linalg.norm(points[:, None, :] - anchors_[None, :, :], axis=2)
        distance = np.where(np.isfinite(distance), distance, np.inf)
        matched: dict[int, Stationary] = {}
        used: set[int] = set()
        for flat in np.argsort(distance, axis=None).tolist():
            row, column = divmod(flat, len(known))
            if distance[row, column] > self.max_movement:
                break
            if row not in matched and column not in used:
                matched[row] = known[column]
                used.add(column)
        return matched

    def _new(
        self, class_name: str, point: np.ndarray, image_point: np.ndarray, ts_ms: int
    ) -> Stationary:
        self._serial += 1
        item = Stationary(self._serial, class_name, point, image_point, ts_ms, ts_ms, -1)
        self.objects[item.serial] = item
        return item


def _track_ids(tracks: sv.Detections) -> np.ndarray:
    if tracks.tracker_id is None:
        return np.full(len(tracks), -1, dtype=int)
    return np.asarray(tracks.tracker_id, dtype=int)
