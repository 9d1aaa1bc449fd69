"""Injected faults: canned errors, latency and responses lost after the server committed.

Paths match exactly, or by prefix when the pattern ends in ``*`` (``"/data/v1/accounts*"``
matches ``/data/v1/accounts`` and everything under it). The query string is not part of
the path. Rules are tried in the order they were added; a request consumes at most one
``fail_next`` rule and at most one ``drop`` rule, while every matching latency rule adds
its delay.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Literal

import attrs
from starlette.responses import HTMLResponse, Response

from . import _html
from ._responses import JSON, json_response, problem

__all__ = ["Faults", "Rule", "fault_response", "path_matches"]

Kind = Literal["fail", "latency", "drop"]

_DATA_DEFAULTS = {
    400: "validation_error",
    401: "unauthorized",
    403: "access_denied",
    404: "account_not_found",
    429: "provider_too_many_requests",
    500: "internal_server_error",
    501: "endpoint_not_supported",
    503: "temporarily_unavailable",
    504: "provider_timeout",
}
_AUTH_DEFAULTS = {
    400: "invalid_request",
    401: "unauthorized_client",
    403: "access_denied",
    404: "not_found",
    500: "internal_server_error",
    503: "temporarily_unavailable",
}


def path_matches(pattern: str, path: str) -> bool:
    """Exact match, or prefix match for a pattern ending in ``*``."""
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


@attrs.define
class Rule:
    """One injected fault."""

    kind: Kind
    pattern: str
    method: str | None
    remaining: int | None  # None: until cleared
    status: int = 0
    error: str | None = None
    description: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: Any = None
    content_type: str | None = None
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return path_matches(self.pattern, path)


class Faults:
    """Thread-safe store of fault rules."""

    def __init__(self) -> None:
        self._rules: list[Rule] = []
        self._lock = threading.Lock()

    def add(self, rule: Rule) -> None:
        if rule.remaining is not None and rule.remaining < 1:
            raise ValueError("times must be at least 1 (or None for 'until cleared')")
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, kind: Kind, method: str, path: str) -> Rule | None:
        """The first matching rule of ``kind``, used up once."""
        with self._lock:
            for rule in self._rules:
                if rule.kind == kind and rule.matches(method, path):
                    self._use(rule)
                    return rule
        return None

    def delay(self, method: str, path: str) -> float:
        """Total latency to add to this request."""
        total = 0.0
        with self._lock:
            for rule in list(self._rules):
                if rule.kind == "latency" and rule.matches(method, path):
                    total += rule.seconds
                    self._use(rule)
        return total

    def _use(self, rule: Rule) -> None:
        if rule.remaining is not None:
            rule.remaining -= 1
            if rule.remaining == 0:
                self._rules.remove(rule)


def fault_response(
    rule: Rule, path: str, base_headers: Mapping[str, str] | None = None
) -> Response:
    """The canned response for a ``fail`` rule, in the dialect of the path's API.

    ``base_headers`` are what a normal response on this path carries (security headers,
    ``X-Credentials-Id``); the rule's own ``headers`` are added over them."""
    status = rule.status
    headers = {**(base_headers or {}), **rule.headers}
    if rule.body is not None:
        if isinstance(rule.body, (bytes, str)):
            raw = rule.body.encode() if isinstance(rule.body, str) else rule.body
            return Response(raw, status, headers=headers, media_type=rule.content_type or JSON)
        return json_response(
            rule.body, status, headers=headers, content_type=rule.content_type or JSON
        )
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    description = rule.description or f"Injected fault: {status} {phrase}."
    if path.startswith("/v3/"):
        from ._payments._problems import PROBLEMS, kind_for_status, problem_response

        return problem_response(
            rule.method or "POST",
            rule.error if rule.error in PROBLEMS else kind_for_status(status),
            description,
            should_retry=status >= 500 or status in (409, 429),
            extra_headers=headers,
            status=status,
        )
    if path.startswith(("/connections/extend", "/verification/")):
        response = problem(
            status,
            title=rule.error or phrase,
            detail=description,
            instance=path,
            trace_key="traceId" if path.startswith("/verification/") else "trace_id",
        )
        response.headers.update(headers)
        return response
    if path == "/" or path.startswith("/dialog/"):
        error = rule.error or _AUTH_DEFAULTS.get(status, "server_error")
        return HTMLResponse(_html.error_page(error, description), status, headers=headers)
    if path.startswith("/data/"):
        error = rule.error or _DATA_DEFAULTS.get(status, "internal_server_error")
        body: dict[str, Any] = {
            "error": error,
            "error_description": description,
            "error_details": {},
        }
    else:
        error = rule.error or _AUTH_DEFAULTS.get(status, "internal_server_error")
        body = {"error": error, "error_description": description}
    return json_response(body, status, headers=headers)
