"""The set-up `abandoned` and `stopped_vehicle` share (vigil.modules.stationary): over every
registered module whose settings are `StationarySettings`, an object left standing is reported
only in the watched zones and after `duration_s`, and metres need a calibration alike."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.modules.synth import Obj, box_at, build, camera, every, run, scene
from vigil.config import ConfigError
from vigil.domain.events import Phase
from vigil.modules.registry import registry
from vigil.modules.stationary import StationarySettings

STATIONARY = sorted(
    name for name, module in registry().items()
    if issubclass(module.settings_model, StationarySettings)
)


def left_at(class_name: str, at: tuple[float, float]) -> Callable[[int], Obj]:
    """An object of `class_name` standing at `at` from the start, alone."""
    return lambda ts: (1, class_name, box_at(at[0], at[1], 40, 40))


def starts(name: str, settings: dict[str, object], at: tuple[float, float]) -> list[int]:
    watched = registry()[name].settings_model.model_validate(settings)
    assert isinstance(watched, StationarySettings)
    class_name = watched.model_dump()["classes"][0]
    result = run(build(name, settings), scene(every(1000, 30000), left_at(class_name, at)))
    return [ts for ts, _ in result.at(Phase.START)]


def test_both_modules_share_it() -> None:
    assert {"abandoned", "stopped_vehicle"} <= set(STATIONARY)


@pytest.mark.parametrize("name", STATIONARY)
def test_an_object_is_reported_after_the_duration_and_only_in_a_watched_zone(name: str) -> None:
    inside, outside = (200, 200), (500, 400)  # the synthetic camera's "plaza" holds only the first
    watched = {"zones": ["plaza"], "duration_s": 10}
    assert starts(name, watched, inside) == [10000]
    assert starts(name, watched, outside) == []
    assert starts(name, {"duration_s": 10}, outside) == [10000]  # no zones: anywhere


@pytest.mark.parametrize("name", STATIONARY)
def test_metres_need_a_calibration(name: str) -> None:
    with pytest.raises(ConfigError, match=rf"modules\.{name}: max_movement_m needs a gr"):
        camera({name: {"max_movement_m": 0.5}})
    camera({name: {"max_movement_m": 0.5}}, calibrated=True)
