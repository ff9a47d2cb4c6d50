"""`vigil audit …`: verify the hash chain of the audit log and export it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vigil.cli.common import fail, load_or_exit

if TYPE_CHECKING:
    from vigil.privacy.audit import AuditLog
    from vigil.store import EventStore

app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
ConfigPath = Annotated[
    Path, typer.Option("--config", "-c", envvar="VIGIL_CONFIG", help="The server's YAML config")
]


def open_log(config_path: Path) -> tuple[EventStore, AuditLog]:
    from vigil.privacy.audit import AuditLog
    from vigil.store import EventStore

    config = load_or_exit(config_path)
    store = EventStore(config.store.url)
    store.migrate()
    return store, AuditLog(store.engine)


@app.command()
def verify(
    config: ConfigPath,
    expect: Annotated[
        str | None,
        typer.Option(help="An anchor kept elsewhere, SEQ:HASH (the server logs the head); "
                     "detects removal of the newest records"),
    ] = None,
) -> None:
    """Prove the chain intact, or name the first altered or missing record (exit 1)."""
    anchor = None
    if expect:
        seq, _, digest = expect.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            fail("--expect: use SEQ:HASH, as printed by a previous verify")
        anchor = (int(seq), digest)
    store, log = open_log(config)
    try:
        result = log.verify(anchor)
    finally:
        store.close()
    if result.ok:
        typer.echo(f"audit chain intact: {result.checked} records; head {result.head_seq}:"
                   f"{result.head_hash}")
        return
    typer.secho(f"audit chain broken at record {result.first_bad_seq}: {result.problem}",
                err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


@app.command()
def export(
    config: ConfigPath,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's records")] = None,
) -> None:
    """Every record as JSON lines, oldest first (with hashes, so a copy can be verified)."""
    store, log = open_log(config)
    try:
        before: int | None = None
        pages = []
        while True:
            page = log.query(tenants=[tenant] if tenant else None, before_seq=before,
                             limit=1000)
            if not page:
                break
            pages.append(page)
            before = page[-1].seq
        for page in reversed(pages):
            for record in reversed(page):
                typer.echo(json.dumps(record.as_dict(), sort_keys=True))
    finally:
        store.close()
