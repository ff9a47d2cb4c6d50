"""`vigil search "query"` and `vigil search reindex`: plain-language search from the shell.

Both work on the event store of a config file (`--config`) or a database file (`--db`, such as
the one `vigil analyze --keep DIR` leaves in DIR), next to which the search index lives.
"""

from __future__ import annotations

import getpass
import json
import logging
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from typer.core import TyperGroup

from vigil.cli.common import fail, load_or_exit
from vigil.config import VigilConfig


class _QueryByDefault(TyperGroup):
    """`vigil search "white van"` runs the `query` command; named commands run as usual."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["query", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_QueryByDefault,
    help='Plain-language search over events.\n\n'
    'vigil search "QUERY" [--db FILE | --config FILE] [--tz ZONE] [--limit N] [--purpose TEXT] '
    '[--json], e.g. vigil search "white van in the loading zone last night".\n\n'
    "Never offered: finding or identifying a person, search by image.",
    no_args_is_help=True,
)
Config = Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file")]
Db = Annotated[
    Path | None,
    typer.Option("--db", help="Event database file (e.g. DIR/vigil.db of vigil analyze --keep)"),
]


def _settings(config: Path | None, db: Path | None) -> VigilConfig:
    settings = load_or_exit(config) if config else VigilConfig()
    if db is not None:
        if not db.is_file():
            fail(f"no such database file: {db}")
        settings.store.url = f"sqlite:///{db}"
        settings.store.media_dir = db.parent / "media"
    return settings


def _service(settings: VigilConfig) -> Any:
    from vigil.search.service import SearchService
    from vigil.store import EventStore

    store = EventStore(settings.store.url)
    store.migrate()
    return SearchService.for_store(store, config=settings)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=Console(stderr=True),
    )


class _CliAudit:
    """The audit chain of the store when it has one (vigil.privacy.audit), else a log line."""

    def __init__(self, settings: VigilConfig, store: Any) -> None:
        self.store = store
        self.actor = f"cli:{getpass.getuser()}"

    def __call__(self, *, actor: str | None, tenants: Collection[str] | None, query: str,
                 purpose: str | None, results: int) -> None:
        from vigil.search.service import LoggingSearchAudit

        try:
            from vigil.privacy.audit import AuditLog

            AuditLog(self.store.engine).append(
                "search.query", actor=self.actor, role="cli", target=query[:512],
                purpose=purpose or "", details={"results": results, "via": "cli"},
            )
            return
        except Exception as error:  # no audit table in this store (or no audit module)
            logging.getLogger(__name__).debug("audit chain unavailable: %s", error)
        LoggingSearchAudit()(actor=self.actor, tenants=tenants, query=query, purpose=purpose,
                             results=results)


@app.command("query", hidden=True)
def query(
    text: Annotated[str, typer.Argument(help="What to look for, in plain language")],
    config: Config = None,
    db: Db = None,
    tz: Annotated[str | None, typer.Option(help="IANA time zone of the time words")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 10,
    purpose: Annotated[str | None, typer.Option(help="Why (recorded in the audit log)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Search events in plain language."""
    from vigil.search.indexer import catch_up
    from vigil.search.query import QueryTextError, RefusedQuery
    from vigil.search.service import SearchRequest
    from vigil.store.query import QueryError

    settings = _settings(config, db)
    service = _service(settings)
    stored = service.count_events()
    if service.index.stats()["events"] < stored:
        Console(stderr=True).print(f"indexing events not yet in the search index ({stored} "
                                   "stored)…")
        catch_up(service)
    try:
        response = service.search(
            SearchRequest(q=text, tz=tz, limit=limit, purpose=purpose,
                          actor=f"cli:{getpass.getuser()}"),
            None, audit=_CliAudit(settings, service.store),
        )
    except RefusedQuery as error:
        fail(str(error))
    except (QueryTextError, QueryError) as error:
        fail(str(error))
    result = response.result
    if as_json:
        typer.echo(json.dumps({
            "query": text, "tz": response.parsed.tz, "total": result.total,
            "filters": [[i.kind, i.words, i.meaning] for i in response.parsed.interpretations],
            "items": [
                {"event_id": hit.event.id, "start_ms": hit.event.start_ms,
                 "camera": hit.event.camera_name, "caption": hit.caption, "reason": why}
                for hit, why in zip(result.hits, response.reasons, strict=True)
            ],
        }))
        return
    console = Console()
    for item in response.parsed.interpretations:
        console.print(f"[dim]{item.kind}:[/] {item.words!r} → {item.meaning}")
    for note in response.parsed.notes:
        console.print(f"[yellow]note:[/] {note}")
    table = Table("time", "camera", "caption", "why", title=f"{result.total} match(es)")
    from datetime import datetime

    from vigil.search.query import zone_info

    zone = zone_info(response.parsed.tz)
    for hit, why in zip(result.hits, response.reasons, strict=True):
        moment = datetime.fromtimestamp(hit.event.start_ms / 1000, zone)
        table.add_row(f"{moment:%Y-%m-%d %H:%M:%S}", hit.event.camera_name, hit.caption, why)
    console.print(table)


@app.command("reindex")
def reindex_command(config: Config = None, db: Db = None) -> None:
    """Rebuild the search index from every stored event (captions, vectors, keywords)."""
    from vigil.search.indexer import reindex

    settings = _settings(config, db)
    service = _service(settings)
    with _progress() as progress:
        task = progress.add_task("indexing events", total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        count = reindex(service, update)
    stats = service.index.stats()
    typer.echo(f"indexed {count} events: {stats['captions']} distinct captions "
               f"({service.index.path})")
