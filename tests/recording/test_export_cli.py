"""`vigil export range`: a long export in audited parts through the API, with progress."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.recording.conftest import RECORDED_CAMERA as CAMERA
from tests.security.conftest import World
from vigil.api.params import iso
from vigil.cli import export as export_cli
from vigil.recording.export import verify
from vigil.recording.export_parts import ExportFailed, export_parts

PURPOSE = "incident 42: bag theft at the crossing"


def test_a_range_is_exported_in_verifiable_parts_with_progress_to_the_end(
    recorded: tuple[World, int, int], tmp_path: Path
) -> None:
    world, start_ms, end_ms = recorded
    client = world.client("alpha:investigator", **{"X-Vigil-Purpose": PURPOSE})
    reported: list[int] = []
    # 1 s parts, and one more second past the recording: a part with nothing recorded.
    done = export_parts(
        client, CAMERA, start_ms, end_ms + 1000, tmp_path / "out",
        part_ms=1000, progress=reported.append,
    )
    assert sum(reported) == end_ms + 1000 - start_ms, "progress must reach 100 %"
    files = [part for part in done if part.path is not None]
    assert len(files) >= 2 and done[-1].path is None
    for part in files:
        assert part.path is not None
        verdict = verify(world.store.engine, part.path.read_bytes())
        assert verdict.ok and verdict.sha256 == part.sha256
        assert verdict.record is not None
        assert verdict.record["details"]["purpose"] == PURPOSE


def test_a_refused_export_says_why(recorded: tuple[World, int, int], tmp_path: Path) -> None:
    world, start_ms, end_ms = recorded
    viewer = world.client("alpha:viewer", **{"X-Vigil-Purpose": PURPOSE})
    with pytest.raises(ExportFailed, match="403"):
        export_parts(viewer, CAMERA, start_ms, end_ms, tmp_path / "out")


def test_the_command_writes_the_parts_and_names_their_hashes(
    recorded: tuple[World, int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, start_ms, end_ms = recorded

    def investigator(_api: str, purpose: str) -> httpx.Client:
        return world.client("alpha:investigator", **{"X-Vigil-Purpose": purpose})

    monkeypatch.setattr(export_cli, "open_client", investigator)  # the real app, in process
    out = tmp_path / "parts"
    result = CliRunner().invoke(
        export_cli.app,
        ["range", CAMERA, "--start", iso(start_ms) or "", "--end", iso(end_ms) or "",
         "--purpose", PURPOSE, "--out", str(out), "--part-s", "1"],
    )
    assert result.exit_code == 0, result.output
    written = sorted(out.glob("*.mp4"))
    assert written and result.output.count("sha256") == len(written)


def test_the_command_names_a_bad_time(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        export_cli.app,
        ["range", CAMERA, "--start", "yesterday", "--end", "2026-12-06T10:00:00Z",
         "--purpose", PURPOSE, "--out", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "--start" in result.output
