"""Config parsing checks module settings through the catalogue `vigil.modules.registry`
installs (vigil.module_checks), so the config never imports the modules above it. A program
that parses a camera naming modules before any catalogue is installed gets a clear refusal,
never a config accepted unchecked."""

from __future__ import annotations

import subprocess
import sys

PARSE = """
import sys
from vigil.config import ConfigError, parse_camera
camera = {"id": "gate", "url": "rtsp://cam/1"}
print(parse_camera(camera).id)
try:
    parse_camera({**camera, "modules": {"zone": {}}})
except ConfigError as error:
    print(error)
if "--load" in sys.argv:
    import vigil.modules.registry
    print(list(parse_camera({**camera, "modules": {"zone": {}}}).modules))
    try:
        parse_camera({**camera, "modules": {"teleport": {}}})
    except ConfigError as error:
        print(error)
"""


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PARSE, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_modules_named_before_the_catalogue_is_installed_are_refused_clearly() -> None:
    out = run()
    assert out.startswith("gate\n")  # a camera without modules needs no catalogue
    assert "analytics modules are not loaded" in out
    assert "vigil.modules.registry" in out


def test_the_registry_installs_itself_as_the_check() -> None:
    lines = run("--load").splitlines()
    assert "['zone']" in lines
    assert any("unknown analytics module 'teleport'" in line for line in lines)
