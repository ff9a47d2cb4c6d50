"""`vigil export range CAMERA`: a long evidence export through a running server's API, with a
percentage progress bar; `vigil export verify FILE`: is this file byte for byte an evidence
export the audit log recorded, and by whom, when, why?"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import httpx
import typer

from vigil.cli.common import fail, load_or_exit
from vigil.recording import MAX_CLIP_MS

app = typer.Typer(help="Evidence exports of recordings.", no_args_is_help=True)


def open_client(api: str, purpose: str) -> httpx.Client:
    """The API with the caller's token (VIGIL_TOKEN, as every remote command) and purpose."""
    headers = {"X-Vigil-Purpose": purpose}
    token = os.environ.get("VIGIL_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    # One part of up to 10 minutes is decoded, redacted and encoded again before it returns.
    return httpx.Client(base_url=api.rstrip("/"), headers=headers, timeout=MAX_CLIP_MS / 1000)


@app.command("range")
def export_range(
    camera: Annotated[str, typer.Argument(help="Camera id")],
    start: Annotated[str, typer.Option(help="ISO 8601, inclusive (UTC without an offset)")],
    end: Annotated[str, typer.Option(help="ISO 8601, exclusive")],
    purpose: Annotated[str, typer.Option(help="Why (recorded in the audit log with each part)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the MP4 parts")],
    case: Annotated[str | None, typer.Option(help="Keep the range under this case's lock")] = None,
    part_s: Annotated[
        int, typer.Option(min=1, max=MAX_CLIP_MS // 1000, help="Seconds of video per part")
    ] = 60,
    api: Annotated[
        str, typer.Option("--api", envvar="VIGIL_API", help="Base URL of the server")
    ] = "http://127.0.0.1:8080",
) -> None:
    """Export a range of any length as face-blurred MP4 parts, each audited and verifiable,
    with a percentage progress bar (the server encodes each part again after redaction, so a
    long range takes minutes)."""
    from vigil.api.params import parse_time
    from vigil.recording.export_parts import ExportFailed, export_parts
    from vigil.store.query import QueryError

    try:
        start_ms = parse_time(start, "start")
        end_ms = parse_time(end, "end")
    except QueryError as error:
        fail(f"--{error.param}: {error.message}")
    assert start_ms is not None and end_ms is not None, "typer requires both"
    if end_ms <= start_ms:
        fail("--end: must be after --start")
    try:
        with open_client(api, purpose) as client, typer.progressbar(
            length=end_ms - start_ms, label=f"exporting {camera}", show_percent=True
        ) as bar:
            done = export_parts(
                client, camera, start_ms, end_ms, out,
                part_ms=part_s * 1000, case_id=case, progress=bar.update,
            )
    except ExportFailed as error:
        fail(str(error))
    except httpx.HTTPError as error:
        fail(f"cannot reach Vigil at {api}: {error}")
    for part in done:
        if part.path is None:
            typer.echo(f"{part.start_ms}-{part.end_ms}: nothing recorded")
        else:
            typer.echo(f"{part.path}  sha256 {part.sha256}")
    files = sum(1 for part in done if part.path is not None)
    if not files:
        fail(f"nothing recorded on camera {camera!r} in that range", code=1)
    typer.echo(f"{files} part(s) in {out}; check any of them with `vigil export verify FILE`")


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="The exported MP4")],
    config: Annotated[
        Path, typer.Option("--config", "-c", envvar="VIGIL_CONFIG", help="The server's YAML config")
    ],
) -> None:
    """Exit 0 and say who exported it when the file's SHA-256 is in the audit log; exit 1
    when it is not (a changed byte, or not an export of this Vigil)."""
    from vigil.recording.export import verify as verify_export
    from vigil.store import EventStore

    if not file.is_file():
        fail(f"{file}: no such file")
    settings = load_or_exit(config)
    store = EventStore(settings.store.url)
    try:
        store.migrate()
        verdict = verify_export(store.engine, file.read_bytes())
    finally:
        store.close()
    if verdict.ok:
        typer.echo(verdict.describe())
        return
    typer.secho(verdict.describe(), err=True, fg=typer.colors.RED)
    raise typer.Exit(1)
