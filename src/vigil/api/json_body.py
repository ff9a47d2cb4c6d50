"""Answers of the busiest read routes, rendered straight to JSON.

FastAPI validates what a route returns against its `response_model`, then serialises it, in a
worker thread for a plain `def` route. For a page of 50 stored events that is a model per event
and a second validation of each: about 1 ms of the node's 4 per page. Routes that already hold
the answer in the model's JSON shape (`vigil.store.events.fields_of`), or already built as the
response model (search), return it through `json_response` instead; their `response_model`
stays, documenting the body, and the API tests check every such answer against the OpenAPI
schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic_core import to_json


def json_response(content: Any) -> Response:
    """`content` (plain dicts, lists and scalars in the response model's shape, or the response
    model itself) as JSON."""
    return Response(to_json(content), media_type="application/json")
