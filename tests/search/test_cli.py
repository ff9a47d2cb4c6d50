"""`vigil search reindex` and `vigil search "query"` on a database file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from vigil.cli import app
from vigil.search.synthetic import synthetic_events
from vigil.store import EventStore


def test_reindex_then_search(tmp_path: Path) -> None:
    db = tmp_path / "vigil.db"
    store = EventStore(f"sqlite:///{db}")
    store.migrate()
    events = list(synthetic_events(40, seed=21))
    store.upsert_events(events)
    store.close()
    runner = CliRunner()

    result = runner.invoke(app, ["search", "reindex", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "indexed 40 events" in result.output
    assert (tmp_path / "vigil.search.db").is_file()

    result = runner.invoke(app, ["search", "person", "--db", str(db), "--json", "--limit", "50"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    expected = {e.id for e in events if e.object and e.object.class_name == "person"}
    assert body["total"] == len(expected)
    assert {item["event_id"] for item in body["items"]} == expected
    assert body["filters"] == [["class", "person", "person"]]

    result = runner.invoke(app, ["search", "abandoned suitcase", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "match(es)" in result.output

    result = runner.invoke(app, ["search", "find this face", "--db", str(db)])
    assert result.exit_code == 2
    assert "does not search for people by identity" in result.output


def test_search_indexes_what_is_missing(tmp_path: Path) -> None:
    """A database written without an indexer (an older `vigil analyze --keep`, say) is
    indexed on first search."""
    db = tmp_path / "vigil.db"
    store = EventStore(f"sqlite:///{db}")
    store.migrate()
    events = list(synthetic_events(15, seed=22))
    store.upsert_events(events)
    store.close()
    result = CliRunner().invoke(app, ["search", "camera covered", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["total"] == sum(1 for e in events if e.type == "tamper.covered")
