"""The learn-then-judge timing shared by tamper_defocus, tamper_moved and object_removed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.contracts.test_modules import REQUIRED
from vigil.domain.events import Phase
from vigil.modules.registry import registry
from vigil.modules.scene_baseline import BaselineSettings, SceneBaseline


def baseline() -> SceneBaseline:
    timing = BaselineSettings(learn_s=2.0, duration_s=1.0, recover_s=1.0, relearn_after_s=10.0)
    return SceneBaseline(("k",), "tamper.test", timing)


def test_learning_needs_the_whole_period_and_three_samples() -> None:
    scene = baseline()
    assert not scene.learned_by(0, 1)
    assert not scene.learned_by(1_000, 2)  # too early
    assert not scene.learned_by(2_000, 2)  # long enough, but two samples are not a scene
    assert scene.learned_by(2_500, 3)
    assert scene.learned and scene.learn_from is None


def test_a_lasting_fault_starts_ends_and_is_relearned_after_relearn_after_s() -> None:
    scene = baseline()
    assert scene.learned_by(0, 3) is False and scene.learned_by(2_000, 3)
    assert scene.judge(3_000, True, lambda: {"score": 1}) == []
    [start] = scene.judge(4_000, True, lambda: {"score": 1})
    assert (start.phase, start.type, start.attributes) == (Phase.START, "tamper.test", {"score": 1})
    assert scene.events == 1
    assert scene.judge(13_000, True, dict) == []
    [end] = scene.judge(14_000, True, dict)
    assert (end.phase, end.attributes) == (Phase.END, {"relearned": True})
    assert not scene.learned and not scene.active


def test_details_are_measured_only_for_a_start() -> None:
    scene = baseline()
    scene.learned_by(0, 3)
    scene.learned_by(2_000, 3)

    def costly() -> dict[str, object]:
        raise AssertionError("measured without a start")

    assert scene.judge(3_000, False, costly) == []
    assert scene.judge(3_100, True, costly) == []


def test_finish_ends_only_an_open_event() -> None:
    scene = baseline()
    scene.learned_by(0, 3)
    scene.learned_by(2_000, 3)
    assert scene.finish() == []
    scene.judge(3_000, True, dict)
    scene.judge(4_000, True, dict)
    [end] = scene.finish()
    assert end.phase is Phase.END and end.attributes == {}


LEARNING = sorted(
    name for name, module in registry().items()
    if issubclass(module.settings_model, BaselineSettings)
)


def test_the_learn_then_judge_modules_are_found_in_the_registry() -> None:
    assert {"tamper_defocus", "tamper_moved", "object_removed"} <= set(LEARNING)


@pytest.mark.parametrize("name", LEARNING)
def test_every_learn_then_judge_module_refuses_bad_timing_alike(name: str) -> None:
    """The timing settings are declared once (BaselineSettings): the same bounds and the same
    field-named message in every module that learns a baseline, only the defaults differ."""
    model = registry()[name].settings_model
    required = REQUIRED.get(name, {})
    for field, bad in (("duration_s", -1), ("recover_s", -1), ("learn_s", 0),
                       ("relearn_after_s", -1), ("adapt_s", 0)):
        if field not in model.model_fields:
            continue
        with pytest.raises(ValidationError) as refused:
            model.model_validate({**required, field: bad})
        assert refused.value.errors()[0]["loc"] == (field,), (name, field)
        assert model.model_fields[field].description, (name, field)
    defaults = model.model_validate(required)
    assert isinstance(defaults, BaselineSettings) and defaults.learn_s > 0
