"""The API process, settled for serving many requests at once once startup is done.

- **One BLAS thread.** numpy's OpenBLAS starts a thread per core for each matrix product (the
  search index scores captions with them). In a process answering fifty requests, those
  threads only compete with the requests and with each other: a search cost 22.7 ms of CPU
  with them against 13.0 ms without, in the same 12-13 ms of wall time (1M events). The
  process's concurrency is its requests.
- **The startup heap leaves the garbage collector's generations.** Everything built at startup
  lives as long as the process: the app with its routes and models, configuration, caches,
  the search index's objects. Left in the generations, every full collection walks all of it
  again, a pause that lands on the requests in flight. `gc.freeze()` moves it to the permanent
  generation: with two API processes over 1M events the event pages' p99 fell 15-25 %.

Figures: `vigil bench api`, docs/benchmarks.md.

The listening socket is opened before the server starts (`listen`): from then on a connection
waits in the backlog instead of being refused, so an address printed for a user (the demo's
login link) works the moment it appears, and a port already taken is reported before the
cameras start.
"""

from __future__ import annotations

import gc
import socket

from threadpoolctl import threadpool_limits


def settle_for_serving() -> None:
    """Call once, after the app is built and before the server accepts connections."""
    threadpool_limits(limits=1, user_api="blas")
    gc.collect()
    gc.freeze()


def listen(host: str, port: int, *, backlog: int = 2048, shared: bool = False) -> socket.socket:
    """A TCP socket bound to host:port and listening, for `uvicorn.Server.run(sockets=...)`;
    `shared` lets several processes listen on one port (SO_REUSEPORT). Raises OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind((host, port))
        listener.listen(backlog)
    except OSError:
        listener.close()
        raise
    return listener
