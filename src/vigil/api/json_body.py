"""Answers of the busiest read routes, rendered straight to JSON.

FastAPI validates what a route returns against its `response_model`, then serialises it, in a
worker thread for a plain `def` route. For a page of 50 stored events that is a model per event
and a second validation of each: about 1 ms of the node's 4 per page. Routes that already hold
the answer in the model's shape (search builds the response model) return it through
`json_response` instead, and an event page arrives as JSON rendered by the database
(`page_response`). Their `response_model` stays, documenting the body, and the API tests check
every such answer against the OpenAPI schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic_core import to_json

from vigil.store.query import EventJsonPage


def json_response(content: Any) -> Response:
    """`content` (plain dicts, lists and scalars in the response model's shape, or the response
    model itself) as JSON."""
    return Response(to_json(content), media_type="application/json")


def page_response(page: EventJsonPage) -> Response:
    """An event page (`EventPageOut`) from the items the database rendered."""
    body = f'{{"items":{page.items_json},"next_cursor":{to_json(page.next_cursor).decode()}}}'
    return Response(body.encode(), media_type="application/json")
