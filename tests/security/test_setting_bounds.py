"""Every number an administrator sets has a lower AND an upper bound, and a value beyond it
is refused with an error that names the setting (config file) or the field (API, 422)."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from typing import Any

import annotated_types
import pytest
from pydantic import BaseModel

from tests.security.conftest import World
from tests.security.test_camera_input import GOOD
from vigil.config import ConfigError, VigilConfig, parse_config


def _numeric(annotation: Any) -> bool:
    if annotation in (int, float):
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_numeric(a) for a in typing.get_args(annotation) if a is not type(None))
    return False


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _models(argument)


def unbounded(model: type[BaseModel], path: str, seen: set[type[BaseModel]]) -> list[str]:
    """Dotted paths of the numeric settings under `model` that lack a lower or upper bound."""
    if model in seen:
        return []
    seen.add(model)
    missing = []
    for name, field in model.model_fields.items():
        where = f"{path}.{name}" if path else name
        if _numeric(field.annotation):
            kinds = [type(m) for m in field.metadata]
            low = annotated_types.Ge in kinds or annotated_types.Gt in kinds
            high = annotated_types.Le in kinds or annotated_types.Lt in kinds
            if not (low and high):
                missing.append(where)
        for sub in _models(field.annotation):
            missing += unbounded(sub, where, seen)
    return missing


def test_every_number_of_the_config_file_has_both_bounds() -> None:
    assert unbounded(VigilConfig, "", set()) == []


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("security", "lockout_minutes", 1e12),
        ("security", "token_max_days", 10**9),
        ("security", "streams_per_user", 10**9),
        ("retention", "events_days", 1e300),
        ("retention", "interval_s", 1e12),
        ("store", "batch_size", 10**12),
        ("batching", "max_lag_ms", 1e300),
        ("tracker", "lost_track_buffer_s", 1e300),
        ("detector", "input_size", 10**6),
    ],
)
def test_a_config_number_beyond_its_bound_is_an_error_naming_it(
    section: str, key: str, value: float
) -> None:
    with pytest.raises(ConfigError, match=rf"{section}\.{key}"):
        parse_config({section: {key: value}})


@pytest.mark.parametrize(
    ("modules", "field"),
    [
        ({"zone": {"min_duration_s": 1e12}}, "min_duration_s"),
        ({"loitering": {"threshold_s": 1e300}}, "threshold_s"),
    ],
)
def test_a_module_number_beyond_its_bound_is_422_naming_it(
    world: World, modules: dict[str, Any], field: str
) -> None:
    response = world.client("alpha:admin").post(
        "/api/cameras",
        content=json.dumps({**GOOD, "modules": modules}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]
    assert world.client("alpha:admin").get("/api/cameras/alpha-new").status_code == 404


def test_a_retention_override_beyond_its_bound_is_422_naming_it(world: World) -> None:
    camera = {**GOOD, "retention": {"events_days": 1e9}}
    response = world.client("alpha:admin").post("/api/cameras", json=camera)
    assert response.status_code == 422, response.text
    assert "retention.events_days" in response.json()["detail"]
