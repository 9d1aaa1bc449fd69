"""Payments v3 responses: JSON and ``application/problem+json`` with TrueLayer's headers.

Every response carries ``Tl-Trace-Id``; responses to modifying requests (POST) carry
``Tl-Should-Retry: false``. Problem ``type`` URLs and titles are those of
payments-api-v3.json (``…/payments-api-errors#<suffix>``); Verification v3 routes render
theirs in :data:`VERIFICATION_STYLE` (verification-api.json).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import attrs
from starlette.responses import Response

from .._responses import json_response

__all__ = [
    "PAYMENTS_STYLE",
    "PROBLEMS",
    "VERIFICATION_STYLE",
    "PaymentsProblem",
    "ProblemStyle",
    "kind_for_status",
    "payments_headers",
    "payments_json",
    "problem_response",
]

_TYPE = "https://docs.truelayer.com/docs/payments-api-errors#"
JSON_UTF8 = "application/json; charset=UTF-8"
PROBLEM_UTF8 = "application/problem+json; charset=UTF-8"

#: status, title and type suffix of every problem the emulator answers with.
PROBLEMS: dict[str, tuple[int, str, str]] = {
    "invalid_parameters": (400, "Invalid Parameters", "invalid-parameters"),
    "invalid_state": (400, "Invalid State", "invalid_state"),
    "unauthenticated": (401, "Unauthenticated", "unauthenticated"),
    "forbidden": (403, "Forbidden", "forbidden"),
    "not_found": (404, "Not Found", "not-found"),
    "idempotency_conflict": (
        409,
        "Idempotency-Key Concurrency Conflict",
        "idempotency-key-concurrency-conflict",
    ),
    "concurrency_conflict": (409, "Concurrency Conflict", "concurrency-conflict"),
    "idempotency_reuse": (422, "Idempotency-Key Reuse", "idempotency-key-reuse"),
    "rate_limit": (429, "Rate Limit Exceeded", "rate-limit-exceeded"),
    "unknown_error": (500, "Unknown Error", "unknown-error"),
    "provider_error": (502, "Provider Error", "provider-error"),
}
_BY_STATUS = {status: name for name, (status, _, _) in reversed(PROBLEMS.items())}


@attrs.frozen
class ProblemStyle:
    """How an API spells its problems: the ``type`` URL prefix, the trace id key, and
    validation ``errors`` as ``{field: [messages]}`` or as a list of ``{field: message}``."""

    type_prefix: str = _TYPE
    trace_key: str = "trace_id"
    errors_as_list: bool = False


PAYMENTS_STYLE = ProblemStyle()
#: verification-api.json: ``…/error-codes#<suffix>`` types and camelCase ``traceId``.
VERIFICATION_STYLE = ProblemStyle("https://docs.truelayer.com/docs/error-codes#", "traceId", True)


class PaymentsProblem(Exception):
    """Raised inside a Payments route; rendered by :func:`problem_response`."""

    def __init__(
        self, kind: str, detail: str, errors: Mapping[str, list[str]] | None = None
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.errors = dict(errors or {})


def payments_headers(method: str, should_retry: bool = False) -> dict[str, str]:
    """``Tl-Trace-Id`` (fresh) and, for modifying methods, ``Tl-Should-Retry``."""
    headers = {"Tl-Trace-Id": uuid.uuid4().hex}
    if method.upper() != "GET":
        headers["Tl-Should-Retry"] = "true" if should_retry else "false"
    return headers


def payments_json(method: str, body: Any, status: int = 200) -> Response:
    """A Payments JSON response (``None`` body: empty, e.g. 202/204)."""
    headers = payments_headers(method)
    if body is None:
        return Response(b"", status, headers=headers)
    return json_response(body, status, headers=headers, content_type=JSON_UTF8)


def problem_body(
    kind: str,
    detail: str,
    trace_id: str,
    errors: Mapping[str, list[str]] | None = None,
    style: ProblemStyle = PAYMENTS_STYLE,
) -> dict[str, Any]:
    """The problem+json body of ``kind`` (a ``PROBLEMS`` key)."""
    status, title, suffix = PROBLEMS[kind]
    body: dict[str, Any] = {
        "type": style.type_prefix + suffix,
        "title": title,
        "status": status,
        style.trace_key: trace_id,
        "detail": detail,
    }
    if kind == "invalid_parameters":
        items = (errors or {}).items()
        body["errors"] = (
            [{key: " ".join(value)} for key, value in items]
            if style.errors_as_list
            else {key: list(value) for key, value in items}
        )
    return body


def problem_response(
    method: str,
    kind: str,
    detail: str,
    errors: Mapping[str, list[str]] | None = None,
    *,
    should_retry: bool = False,
    extra_headers: Mapping[str, str] | None = None,
    status: int | None = None,
    style: ProblemStyle = PAYMENTS_STYLE,
) -> Response:
    """A Payments problem response (``status`` overrides the kind's, e.g. a 503 fault)."""
    headers = {**payments_headers(method, should_retry), **(extra_headers or {})}
    body = problem_body(kind, detail, headers["Tl-Trace-Id"], errors, style)
    if status is not None:
        body["status"] = status
    code = body["status"]
    return json_response(body, code, headers=headers, content_type=PROBLEM_UTF8)


def kind_for_status(status: int) -> str:
    """The problem kind an injected fault with ``status`` is answered as."""
    return _BY_STATUS.get(status, "unknown_error")
