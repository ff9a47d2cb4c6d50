"""One error format for every failure: HTTP status and JSON {"detail": "<what was wrong>"}.

FastAPI's own validation errors are a list of objects; they are flattened into one sentence
per problem, each naming the parameter, so a person reading a curl reply sees the cause.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from vigil.store.media import MediaError
from vigil.store.query import QueryError
from vigil.vision.detector import ModelError

log = logging.getLogger(__name__)


class ErrorOut(BaseModel):
    detail: str


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the error body for these status codes."""
    return {code: {"model": ErrorOut} for code in codes}


def describe_validation_errors(errors: Sequence[Any]) -> str:
    problems = []
    for item in errors:
        loc = [str(part) for part in item.get("loc", ())]
        # "query"/"path"/"header" add nothing once the parameter is named; "body" does.
        if len(loc) > 1 and loc[0] in ("query", "path", "header", "cookie"):
            loc = loc[1:]
        where = ".".join(loc) or "request"
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        got = item.get("input")
        shown = ""
        if item.get("type") not in ("missing", "extra_forbidden") and isinstance(
            got, str | int | float
        ):
            shown = f" (got {got!r:.80})"
        problems.append(f"{where}: {message}{shown}")
    return "; ".join(problems) or "invalid request"


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return JSONResponse({"detail": describe_validation_errors(error.errors())}, status_code=422)


async def _query_error(_request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=422)


async def _model_error(_request: Request, error: Exception) -> JSONResponse:
    # A camera's detector settings the model cannot serve (cameras[].detector).
    return JSONResponse({"detail": str(error)}, status_code=422)


async def _media_unavailable(_request: Request, error: Exception) -> JSONResponse:
    # The reason names internal endpoints: it goes to the log, not to the client.
    log.error("media store unavailable: %s", error)
    return JSONResponse(
        {"detail": "the media store is unavailable; try again shortly (the server log says why)"},
        status_code=503, headers={"Retry-After": "5"},
    )


async def _unexpected(_request: Request, _error: Exception) -> JSONResponse:
    # Starlette re-raises the error after this response, so the server logs the traceback.
    return JSONResponse({"detail": "internal error; see the server log"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(QueryError, _query_error)
    app.add_exception_handler(MediaError, _media_unavailable)
    app.add_exception_handler(ModelError, _model_error)
    app.add_exception_handler(Exception, _unexpected)
