"""The module contract (vigil.modules.base.AnalyticsModule), over every registered module: a
described, strict settings schema, a documentation page, and the whole interface answered on a
real frame, so a new module is held to the same checks without being added to any list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.modules.synth import Path as Walk
from tests.modules.synth import camera, every, scene
from vigil.cli import app
from vigil.config import ConfigError
from vigil.domain.frames import SourceStatus
from vigil.modules.registry import build_modules, describe_modules, registry

DOCS = Path(__file__).resolve().parents[2] / "docs" / "modules"
# The few settings without which a module has nothing to watch (every other module works on
# the camera's zones and lines with its defaults).
REQUIRED: dict[str, dict[str, Any]] = {
    "wrong_way": {"lanes": [{"zone": "plaza", "angle_deg": 0}]},
    "parking": {"slots": [{"name": "P1", "polygon": [[0, 0], [10, 0], [10, 10]]}]},
    "object_removed": {"regions": [{"name": "shelf", "polygon": [[0, 0], [40, 0], [40, 40]]}]},
}
NAMES = sorted(registry())


def settings_of(name: str) -> dict[str, Any]:
    return REQUIRED.get(name, {})


def test_every_module_is_registered_with_a_described_schema_and_a_page() -> None:
    described = {m["name"]: m for m in describe_modules()}
    assert set(described) == set(NAMES)
    for name in NAMES:
        assert described[name]["description"], name
        schema = described[name]["settings_schema"]
        assert schema.get("additionalProperties") is False, name
        for key, prop in schema["properties"].items():
            assert prop.get("description"), f"{name}.{key} has no description"
        assert (DOCS / f"{name}.md").is_file(), f"docs/modules/{name}.md is missing"


def test_the_cli_lists_them() -> None:
    result = CliRunner().invoke(app, ["modules", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert {m["name"] for m in json.loads(result.stdout)} == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_keys_are_errors_naming_the_module(name: str) -> None:
    camera({name: settings_of(name)}, calibrated=True)
    with pytest.raises(ConfigError, match=rf"modules\.{name}\.colour"):
        camera({name: {**settings_of(name), "colour": "red"}}, calibrated=True)


@pytest.mark.parametrize("name", NAMES)
def test_the_whole_interface_answers_on_real_frames(name: str) -> None:
    (module,) = build_modules(camera({name: settings_of(name)}, calibrated=True))
    walker = Walk(1, "person", (50, 200), (60, 0))
    for tracks in scene(every(200, 4000), walker):
        assert isinstance(module.update(tracks), list)
        assert isinstance(module.measure(tracks), list)
    assert isinstance(module.on_status(SourceStatus(online=True), 4000), list)
    assert isinstance(module.stats(), dict)
    json.dumps(module.stats())  # the UI gets it as JSON
    assert isinstance(module.finish(4000), list)
