"""Write tests/search/data/clip-events.json: the events of the bundled clip (media/vtest.mp4)
analysed with examples/demo.yaml's first camera, as `vigil analyze --keep` stores them.

    python -m tests.search.make_clip_events

The recall test reads this file instead of analysing the clip on every run (a minute and more
on two cores); rerun this after changes to detection, tracking or the modules.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tests.media import CLIP, DEMO
from vigil.cli.analyze import analyze_video
from vigil.config import ROOT, load_config
from vigil.store import EventQuery, EventStore

OUT = Path(__file__).resolve().parent / "data" / "clip-events.json"


def main() -> None:
    config = load_config(DEMO)
    for camera in config.cameras:
        camera.url = str(ROOT / camera.url)
    with tempfile.TemporaryDirectory() as keep:
        summary = analyze_video(CLIP, config, fps=5, keep=Path(keep))
        store = EventStore(f"sqlite:///{Path(keep) / 'vigil.db'}")
        events = store.query_events(EventQuery(limit=1000)).items
        store.close()
    events.sort(key=lambda event: (event.start_ms, event.id))
    OUT.write_text(json.dumps({
        "source": "media/vtest.mp4 via vigil.cli.analyze.analyze_video(fps=5), "
                  "examples/demo.yaml first camera",
        "summary": {"frames": summary["frames"], "events": summary["events"],
                    "tracks": summary["tracks"]},
        "events": [event.model_dump(mode="json") for event in events],
    }, indent=1) + "\n")
    print(f"{OUT}: {len(events)} events")


if __name__ == "__main__":
    main()
