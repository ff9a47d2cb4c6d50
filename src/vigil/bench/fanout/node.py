"""The API node under test: the live-event routes over a NATS bus, on uvicorn.

Only the stream routes are mounted, and every caller is an internal principal: connect-time
authentication and audit are outside this measurement (they happen once per connection, not
per event). `python -m vigil.bench.fanout.node PORT NATS_URL PREFIX`.
"""

from __future__ import annotations

import resource
import sys
from typing import Any, cast

import uvicorn
from fastapi import FastAPI

from vigil.api import routes_stream
from vigil.api.context import AppContext
from vigil.auth.deps import optional_principal
from vigil.auth.principal import internal_principal
from vigil.bench.fanout import baseline, streaming
from vigil.bus.nats import NatsBus
from vigil.config import VigilConfig


def build(nats_url: str, prefix: str, subscribers: int) -> FastAPI:
    bus = NatsBus(nats_url, prefix=prefix)
    app = FastAPI()
    # The stream routes use the bus and the keep-alive interval only.
    app.state.context = AppContext(
        engine=cast(Any, None), store=cast(Any, None), media=cast(Any, None), bus=bus
    )
    config = VigilConfig()
    config.security.streams_per_user = subscribers  # one internal user holds them all
    config.security.streams_per_tenant = subscribers
    app.state.config = config
    app.dependency_overrides[optional_principal] = lambda: internal_principal("bench")
    app.include_router(routes_stream.router)
    app.include_router(baseline.router)
    app.include_router(streaming.router)
    return app


def main() -> None:
    port, nats_url, prefix, subscribers = sys.argv[1:5]
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    app = build(nats_url, prefix, int(subscribers))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(port),
        log_level="warning",
        backlog=4096,
        timeout_keep_alive=60,
    )


if __name__ == "__main__":
    main()
