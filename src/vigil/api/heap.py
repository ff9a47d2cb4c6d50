"""The API process's heap, settled once startup is done.

Everything built at startup lives as long as the process: the app with its routes and models,
configuration, caches, the search index's objects. Left in the garbage collector's generations,
each full collection walks all of it again, a pause that lands on whichever requests are in
flight. `gc.freeze()` moves it to the permanent generation, so collections walk only what
requests allocate: `vigil bench api` with two API processes over 1M events measured the event
pages' p99 15-25 % lower with it (docs/benchmarks.md).
"""

from __future__ import annotations

import gc


def settle_startup_heap() -> None:
    """Collect what startup left behind, then exempt the survivors from later collections."""
    gc.collect()
    gc.freeze()
