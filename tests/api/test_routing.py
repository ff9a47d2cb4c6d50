"""The app's routes: each is reached by its own paths, whatever order the routers are in."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

_PARAM = re.compile(r"\{[^}:]+(:path)?\}")


def test_no_route_shadows_another(app: FastAPI) -> None:
    """Routers are included with the busiest first (matching is a linear scan), so a template
    with a parameter could claim a later route's literal path (/api/events/{event_id} and
    /api/events/stream): the first route that matches each route's own path is that route."""
    routes = [
        (route.path, route.methods or set(), route.path_regex, route.endpoint)
        for route in iter_route_contexts(app.router.routes)
        if route.endpoint is not None
    ]
    assert len(routes) > 100
    for path, methods, _, endpoint in routes:
        sample = _PARAM.sub(lambda m: "a/b" if m.group(1) else "sample", path)
        for method in methods:
            first = next(r for r in routes if method in r[1] and r[2].match(sample))
            assert first[3] is endpoint, f"{method} {sample} is meant for {path}, {first[0]} has it"
