"""Response builders for the three error dialects the emulator speaks.

* auth server: ``{"error", "error_description"?}`` (``application/json``);
* Data API: ``{"error", "error_description", "error_details": {}}`` plus TrueLayer's
  response headers;
* connections/extend and Verification: RFC 7807 ``application/problem+json``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from ._encode import dumps

__all__ = [
    "JSON",
    "PROBLEM",
    "auth_error",
    "data_error",
    "data_headers",
    "json_response",
    "problem",
]

JSON = "application/json; charset=utf-8"
PROBLEM = "application/problem+json; charset=utf-8"

_SECURITY_HEADERS = {
    # TrueLayer documents `max-age=n`; the emulator keeps no response cache, so n is 0.
    "Cache-Control": "max-age=0",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none';",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "deny",
    "X-XSS-Protection": "1; mode=block",
    "Referrer-Policy": "no-referrer",
}


def json_response(
    body: object,
    status: int = 200,
    *,
    headers: Mapping[str, str] | None = None,
    content_type: str = JSON,
) -> Response:
    """A JSON response whose Decimals are written exactly."""
    return Response(dumps(body), status, headers=dict(headers or {}), media_type=content_type)


def data_headers(credentials_id: str | None) -> dict[str, str]:
    """TrueLayer's Data API response headers (the correlation id is added for every
    response by the outer app)."""
    headers = dict(_SECURITY_HEADERS)
    if credentials_id:
        headers["X-Credentials-Id"] = credentials_id
    return headers


def auth_error(status: int, error: str, description: str | None = None) -> Response:
    """An auth-server error body."""
    body: dict[str, Any] = {"error": error}
    if description:
        body["error_description"] = description
    return json_response(body, status, headers={"Cache-Control": "no-store"})


def data_error(
    status: int,
    error: str,
    description: str,
    *,
    credentials_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Response:
    """A Data API error body with TrueLayer's headers."""
    body = {"error": error, "error_description": description, "error_details": dict(details or {})}
    return json_response(body, status, headers=data_headers(credentials_id))


def problem(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    instance: str,
    errors: Mapping[str, list[str]] | None = None,
    trace_key: str = "trace_id",
    type_: str = "https://docs.truelayer.com/docs/error-codes",
) -> Response:
    """An ``application/problem+json`` response; ``trace_key`` is ``trace_id`` for
    connections/extend and ``traceId`` for Verification (as in their specs)."""
    trace_id = str(uuid.uuid4())
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = instance
    body[trace_key] = trace_id
    if errors:
        body["errors"] = {key: list(value) for key, value in errors.items()}
    headers = {"X-TL-Correlation-Id": trace_id, "Tl-Trace-Id": trace_id}
    return json_response(body, status, headers=headers, content_type=PROBLEM)
