"""The analytics modules of issue 3 (crowds, queues, objects, vehicles, traffic, schedules) are
registered with a described, strict settings schema."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.modules.synth import camera
from vigil.cli import app
from vigil.config import ConfigError
from vigil.modules.registry import describe_modules

MODULES = {
    "occupancy": {},
    "queue": {},
    "abandoned": {},
    "stopped_vehicle": {},
    "wrong_way": {"lanes": [{"zone": "plaza", "angle_deg": 0}]},
    "speed": {},
    "traffic_flow": {},
    "parking": {"slots": [{"name": "P1", "polygon": [[0, 0], [10, 0], [10, 10]]}]},
    "intrusion": {},
    "running": {},
    "count_anomaly": {},
}


def test_every_module_is_registered_with_a_described_schema() -> None:
    described = {m["name"]: m for m in describe_modules()}
    for name in MODULES:
        assert described[name]["description"], name
        schema = described[name]["settings_schema"]
        assert schema.get("additionalProperties") is False, name
        for key, prop in schema["properties"].items():
            assert prop.get("description"), f"{name}.{key} has no description"


def test_the_cli_lists_them() -> None:
    result = CliRunner().invoke(app, ["modules", "list", "--json"])
    assert result.exit_code == 0, result.output
    names = {m["name"] for m in json.loads(result.stdout)}
    assert set(MODULES) <= names


@pytest.mark.parametrize("name", sorted(MODULES))
def test_unknown_keys_are_errors_naming_the_module(name: str) -> None:
    settings = MODULES[name]
    if name == "speed":
        camera({name: settings}, calibrated=True)
    else:
        camera({name: settings})
    with pytest.raises(ConfigError, match=rf"modules\.{name}\.colour"):
        camera({name: {**settings, "colour": "red"}}, calibrated=True)
