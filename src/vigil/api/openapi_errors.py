"""The error half of the OpenAPI document: every status a route can answer, with its body.

Handlers document the errors of their own logic (`error_responses(404, 409)`); the errors
that come from around them are the same for whole classes of routes, so they are added here
from the facts that cause them, rather than repeated by hand on each route:

- 401 (no or a bad credential) and 403 (role, CSRF, purpose, camera scope): every route the
  auth policy does not mark public;
- 429: routes with a rate limit in the policy, and login;
- 422: every route, because a NUL byte anywhere in the URL is refused (NulMiddleware), and
  validation errors are flattened to the same `{"detail": "..."}` body (FastAPI's own list
  schema is replaced: it is never sent);
- 404: routes with a path parameter (an id that is unknown, or not the caller's);
- 400 (bad Content-Length) and 413 (body over the limit): routes that take a body.

Every error body is `ErrorOut`. tests/security/test_api_contract.py checks the server
against this document with all of schemathesis's checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from vigil.auth.policy import rule_for

_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
_ERROR_SCHEMA = {
    "title": "ErrorOut",
    "type": "object",
    "properties": {"detail": {"title": "Detail", "type": "string"}},
    "required": ["detail"],
}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not logged in, or the credential is invalid, expired or revoked",
    403: "Not allowed for this role, scope or purpose (or a missing CSRF token)",
    404: "Not found, or not the caller's",
    413: "Request body too large",
    422: "Invalid input; `detail` names the field",
    429: "Too many requests; see Retry-After",
}
_LIMITED_PUBLIC = {("post", "/api/auth/login"), ("post", "/api/auth/setup")}


def statuses_for(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses that come from around the handler of this operation."""
    rule = rule_for(method.upper(), path)
    codes = {422}
    if not rule.public:
        codes |= {401, 403}
    if rule.limit is not None or (method, path) in _LIMITED_PUBLIC:
        codes.add(429)
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        codes.add(404)
    if "requestBody" in operation:
        codes |= {400, 413}
    return codes


def add_error_contract(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with the errors above documented on every operation (changed in place)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorOut"] = _ERROR_SCHEMA
    for path, item in schema.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code in sorted(statuses_for(method, path, operation)):
                entry = responses.setdefault(str(code), {"description": _DESCRIPTIONS[code]})
                entry["content"] = {"application/json": {"schema": _ERROR_REF}}
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install_error_contract(app: FastAPI) -> None:
    """Serve the document with its error contract (built once, as FastAPI caches it)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_error_contract(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
