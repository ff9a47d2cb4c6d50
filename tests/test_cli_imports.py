"""Every `vigil` command starts by importing the CLI: it must not load what only some commands
need (the API, the engine, the store, the video stacks), which took `vigil --help` 6.8 s."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("vigil.api", "vigil.runtime", "vigil.store", "vigil.recording.archive",
         "vigil.bench.cameras", "supervision", "sqlalchemy", "uvicorn")


def test_the_cli_imports_no_command_s_heavy_dependencies() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c",
         "import json, sys, vigil.cli.main; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    modules = set(json.loads(loaded.stdout))
    assert {name for name in HEAVY if name in modules} == set()
