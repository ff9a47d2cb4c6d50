"""Object removed: a registered region that changes persistently against its reference."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import supervision as sv

from tests.modules.synth import camera
from tests.vision.footage import BASE_MS, clip_frames, frame_view, noisy, textured_scene
from vigil.config import ConfigError
from vigil.domain.events import Phase
from vigil.modules.object_removed import ObjectRemovedModule
from vigil.modules.registry import build_modules

SCENE = textured_scene(21)
BOX = (400, 120, 520, 220)  # the watched object: x1, y1, x2, y2
REGION = {"name": "safe", "polygon": [[390, 110], [530, 110], [530, 230], [390, 230]]}
OTHER = {"name": "poster", "polygon": [[40, 300], [160, 300], [160, 420], [40, 420]]}


def with_object(image: np.ndarray) -> np.ndarray:
    frame = image.copy()
    x1, y1, x2, y2 = BOX
    frame[y1:y2, x1:x2] = (30, 30, 30)
    cv2.rectangle(frame, (x1 + 10, y1 + 10), (x2 - 10, y2 - 10), (220, 220, 220), 4)
    return frame


PRESENT = with_object(SCENE)


def removed(**settings: object) -> ObjectRemovedModule:
    settings.setdefault("regions", [REGION, OTHER])
    (module,) = build_modules(camera({"object_removed": settings}))
    assert isinstance(module, ObjectRemovedModule)
    return module


def seq(image: np.ndarray, count: int, seed: int = 0) -> list[np.ndarray]:
    return [noisy(image, seed + i) for i in range(count)]


def run(module: ObjectRemovedModule, frames: list, start: int = 0) -> list:
    """Frames are images, or (image, detections) pairs."""
    signals = []
    for index, item in enumerate(frames):
        image, detections = item if isinstance(item, tuple) else (item, None)
        view = frame_view(BASE_MS + (start + index) * 200, image, detections)
        signals.extend(module.update(view))
    return signals


FAST = {"learn_s": 2, "duration_s": 2, "recover_s": 1}


def test_removal_is_reported_for_its_region_and_ends_when_it_is_back() -> None:
    module = removed(**FAST)
    signals = run(module, seq(PRESENT, 15) + seq(SCENE, 20) + seq(PRESENT, 10))
    assert [(s.phase, s.type, s.zone) for s in signals] == [
        (Phase.START, "object.removed", "safe"),
        (Phase.END, "object.removed", "safe"),
    ]
    start = signals[0]
    assert start.key == ("region", "safe") and start.track_id is None and start.class_name is None
    assert start.attributes["changed_fraction"] > 0.5
    stats = module.stats()
    assert stats["safe"]["events"] == 1 and stats["poster"]["events"] == 0


def test_a_brief_change_and_a_lighting_change_are_not_removal() -> None:
    module = removed(**FAST)
    dim = (PRESENT * 0.6).astype(np.uint8)
    frames = seq(PRESENT, 15) + seq(SCENE, 5) + seq(PRESENT, 5) + seq(dim, 20)
    assert run(module, frames) == []


def test_people_passing_during_learning_do_not_enter_the_reference() -> None:
    module = removed(**FAST)
    learning = []
    for i in range(15):
        frame = PRESENT.copy()
        if i % 3 == 0:  # someone crosses the region in one frame out of three
            frame[100:240, 420:470] = (200, 60, 60)
        learning.append(noisy(frame, i))
    assert run(module, learning + seq(PRESENT, 20)) == []


def person_over_region() -> sv.Detections:
    return sv.Detections(
        xyxy=np.array([[420, 60, 500, 240]], dtype=np.float32),
        confidence=np.array([0.9], dtype=np.float32),
        class_id=np.array([0]),
        tracker_id=np.array([7]),
        data={"class_name": np.array(["person"])},
    )


def test_an_object_standing_in_front_hides_the_region() -> None:
    module = removed(**FAST)
    blocked = SCENE.copy()
    blocked[60:240, 420:500] = (200, 60, 60)
    occluded = [(image, person_over_region()) for image in seq(blocked, 30)]
    assert run(module, seq(PRESENT, 15) + occluded + seq(PRESENT, 5)) == []
    assert module.stats()["safe"]["occluded"] is False
    # without the track, the same pixels are a change
    signals = run(removed(**FAST), seq(PRESENT, 15) + seq(blocked, 20))
    assert [s.phase for s in signals] == [Phase.START]


def test_a_lasting_change_is_accepted_and_relearned() -> None:
    module = removed(**FAST, relearn_after_s=3)
    signals = run(module, seq(PRESENT, 15) + seq(SCENE, 50))
    assert [s.phase for s in signals] == [Phase.START, Phase.END]
    assert signals[1].attributes == {"relearned": True} and signals[1].zone == "safe"
    assert module.stats()["safe"]["learning"] is False  # learned the empty place by now
    # bringing the object back is now a change of the new reference
    back = run(module, seq(PRESENT, 15), start=65)
    assert [s.phase for s in back] == [Phase.START]


def test_acknowledging_relearns_at_once() -> None:
    module = removed(**FAST)
    run(module, seq(PRESENT, 15) + seq(SCENE, 15))
    assert module.stats()["safe"]["removed"] is True
    module.relearn("safe")
    signals = run(module, seq(SCENE, 20), start=30)
    assert [(s.phase, s.zone) for s in signals] == [(Phase.END, "safe")]
    assert module.stats()["safe"] == {
        "removed": False, "learning": False, "occluded": False, "changed_fraction": 0.0,
        "events": 1,
    }


def test_finish_ends_open_events() -> None:
    module = removed(learn_s=1, duration_s=0)
    run(module, seq(PRESENT, 8) + seq(SCENE, 2))
    assert [(s.phase, s.zone) for s in module.finish(BASE_MS + 9000)] == [(Phase.END, "safe")]


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"modules\.object_removed\.regions"):
        camera({"object_removed": {}})
    with pytest.raises(ConfigError, match="region names must be unique"):
        camera({"object_removed": {"regions": [REGION, REGION]}})
    with pytest.raises(ConfigError, match=r"regions\.0\.polygon"):
        camera({"object_removed": {"regions": [{"name": "x", "polygon": [[0, 0], [1, 1]]}]}})


VAN = {"name": "van", "polygon": [[652, 45], [723, 45], [723, 100], [652, 100]]}
LITTER = {"name": "litter", "polygon": [[62, 492], [162, 492], [162, 530], [62, 530]]}


def take_away(image: np.ndarray, region: dict) -> np.ndarray:
    """The region painted over from its surroundings, as if the object had gone."""
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.array(region["polygon"], np.int32)], 255)
    return cv2.inpaint(image, mask, 5, cv2.INPAINT_TELEA)


def test_object_removed_on_the_street_clip() -> None:
    """Real frames: the parked white van leaves, later the litter on the lawn is picked up;
    each is reported once for its own region. The untouched clip raises nothing."""
    frames = list(clip_frames(step=2, start=0, stop=400))  # 40 s at 5 fps
    sequence = (
        frames[:60]
        + [take_away(f, VAN) for f in frames[60:140]]
        + [take_away(take_away(f, VAN), LITTER) for f in frames[140:]]
    )
    module = removed(regions=[VAN, LITTER])  # defaults: 10 s learning, 10 s changed
    signals = run(module, sequence)
    assert [(s.phase, s.zone) for s in signals] == [(Phase.START, "van"), (Phase.START, "litter")]
    assert signals[0].attributes["changed_fraction"] > 0.5
    assert run(removed(regions=[VAN, LITTER], duration_s=0), frames) == []
