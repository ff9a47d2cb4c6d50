"""`vigil search reindex` and `vigil search "query"` on a database file (SQLite: `--db`) or
the store of a config file (PostgreSQL: `--config`)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from tests.databases import database_url, on_postgresql
from vigil.bench.synthetic import synthetic_events
from vigil.cli import app
from vigil.search.index import index_path_for
from vigil.store import EventStore


def new_store(tmp_path: Path) -> tuple[EventStore, list[str]]:
    """A migrated, empty store and the CLI options that name it."""
    url = database_url(tmp_path)
    if on_postgresql():
        config = tmp_path / "vigil.yaml"
        config.write_text(yaml.safe_dump({"store": {"url": url,
                                                    "media_dir": str(tmp_path / "media")}}))
        where = ["--config", str(config)]
    else:
        where = ["--db", url.removeprefix("sqlite:///")]
    store = EventStore(url)
    store.migrate()
    return store, where


def test_reindex_then_search(tmp_path: Path) -> None:
    store, where = new_store(tmp_path)
    url = store.engine.url.render_as_string(hide_password=False)
    events = list(synthetic_events(40, seed=21))
    store.upsert_events(events)
    store.close()
    runner = CliRunner()

    result = runner.invoke(app, ["search", "reindex", *where])
    assert result.exit_code == 0, result.output
    assert "indexed 40 events" in result.output
    assert index_path_for(url, tmp_path).is_file()
    assert index_path_for(url, tmp_path).parent == tmp_path

    result = runner.invoke(app, ["search", "person", *where, "--json", "--limit", "50"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    expected = {e.id for e in events if e.object and e.object.class_name == "person"}
    assert body["total"] == len(expected)
    assert {item["event_id"] for item in body["items"]} == expected
    assert body["filters"] == [["class", "person", "person"]]

    result = runner.invoke(app, ["search", "abandoned suitcase", *where])
    assert result.exit_code == 0, result.output
    assert "match(es)" in result.output

    result = runner.invoke(app, ["search", "find this face", *where])
    assert result.exit_code == 2
    assert "does not search for people by identity" in result.output


def test_search_indexes_what_is_missing(tmp_path: Path) -> None:
    """A database written without an indexer (an older `vigil analyze --keep`, say) is
    indexed on first search."""
    store, where = new_store(tmp_path)
    events = list(synthetic_events(15, seed=22))
    store.upsert_events(events)
    store.close()
    result = CliRunner().invoke(app, ["search", "camera covered", *where, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["total"] == sum(1 for e in events if e.type == "tamper.covered")
