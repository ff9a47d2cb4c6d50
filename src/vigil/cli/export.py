"""`vigil export verify FILE`: is this file byte for byte an evidence export the audit log
recorded, and by whom, when, why?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import fail, load_or_exit
from vigil.recording.export import verify as verify_export
from vigil.store import EventStore

app = typer.Typer(help="Evidence exports of recordings.", no_args_is_help=True)


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="The exported MP4")],
    config: Annotated[
        Path, typer.Option("--config", "-c", envvar="VIGIL_CONFIG", help="The server's YAML config")
    ],
) -> None:
    """Exit 0 and say who exported it when the file's SHA-256 is in the audit log; exit 1
    when it is not (a changed byte, or not an export of this Vigil)."""
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
