"""The CLI on hostile or broken input: one line naming what and where, never a traceback,
and a non-zero exit whenever an error was printed."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.media import CLIP
from tests.server import vigil_command


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*vigil_command(), *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_config_that_is_not_utf8_gets_one_line_with_the_line_number(tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_bytes(b"cameras:\n  - id: a\n    name: caf\xe9\n    url: x.mp4\n")
    result = run("check-config", str(config))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert f"{config}: not UTF-8 text (byte 0xe9 at line 3)" in result.stderr


def test_non_finite_numbers_are_named_by_key_path(tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(
        "retention:\n  events_days: .inf\ncameras:\n  - id: a\n    url: x.mp4\n"
        "    zones: [{name: z, polygon: [[0, 0], [.nan, 0], [1, 1]]}]\n"
    )
    result = run("check-config", str(config))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "retention.events_days: Input should be a finite number" in result.stderr
    assert "cameras[0].zones[0].polygon[1][0]: Input should be a finite number" in result.stderr


def test_analyze_exits_non_zero_when_it_prints_an_error(tmp_path: Path) -> None:
    """A truncated recording: some frames are analysed, the truncation is reported, and a
    script running `vigil analyze` must see the failure."""
    truncated = tmp_path / "cut.mp4"
    data = CLIP.read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    result = run("analyze", str(truncated), "--fps", "1", "--json")
    assert '"error": null' not in result.stdout, result.stdout
    assert result.returncode != 0
