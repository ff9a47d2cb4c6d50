"""A/B of the API node under load: an earlier version of Vigil against this one, alternately,
on the same seeded store, in one run (docs/benchmarks.md, the API under load).

    python bench/api_ab.py data/bench-api/events-1000000.db --before 32a78d2 --rounds 2

The store is one `vigil bench api` seeded (SQLite). The earlier version runs from `git archive`
of `--before` on this interpreter, against a copy of the store downgraded to the newest schema
it knows (`--before-revision`), so each side runs with its own schema and queries. Each round
runs the same load (`vigil.bench.api.load`: 50 clients in 2 processes) against the earlier
node, then this one with each `--workers` count. Prints one JSON object per load run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

from vigil.bench.api.load import COUNT_KINDS, EVENT_KINDS
from vigil.bench.api.run import ApiSettings, _token, load_run
from vigil.store import EventStore
from vigil.store.db import MIGRATIONS


def earlier_source(commit: str, into: Path) -> Path:
    archive = into / "src.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", commit, "src"], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def downgraded_copy(store_file: Path, into: Path, revision: str) -> str:
    copy = into / "before.db"
    shutil.copyfile(store_file, copy)
    url = f"sqlite:///{copy}"
    store = EventStore(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    store.close()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("store", type=Path, help="a SQLite store seeded by vigil bench api")
    parser.add_argument("--before", required=True, help="git commit of the earlier version")
    parser.add_argument("--before-revision", default="0014_console_alerting")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, action="append")
    args = parser.parse_args()
    # The pages and counts only: the earlier versions' nodes are not given a search index.
    settings = ApiSettings(
        clients=args.clients, processes=2, duration_s=args.duration, kinds=EVENT_KINDS + COUNT_KINDS
    )
    work = Path(tempfile.mkdtemp(prefix="vigil-api-ab-"))
    try:
        url = f"sqlite:///{args.store.resolve()}"
        token = _token(url)  # made before the copy, so both stores know it
        before_url = downgraded_copy(args.store, work, args.before_revision)
        source = earlier_source(args.before, work)
        media = work / "media"
        for round_ in range(1, args.rounds + 1):
            runs = [("before", before_url, 1, source)]
            runs += [("after", url, workers, None) for workers in args.workers or [1]]
            for name, store_url, workers, src in runs:
                result = load_run(settings, store_url, media, token, workers, src)
                print(
                    json.dumps({"round": round_, "node": name, "workers": workers, **result}),
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"load_average_end": os.getloadavg()}), file=sys.stderr)


if __name__ == "__main__":
    main()
