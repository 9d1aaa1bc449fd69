"""Turning an error response (status, headers, body) into the right exception.

Both TrueLayer error shapes are understood: ``{error, error_description, error_details}``
(auth server, Data API v1) and RFC 7807 problem+json (Verification, connection extension).
No body text reaches an exception except TrueLayer's own code and description.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from . import errors as e
from ._json import loads, scrubbed_snippet
from ._redact import redact as _redacted
from ._secret import Secret

__all__ = ["RETRYABLE_CODES", "RETRYABLE_STATUSES", "Api", "correlation_id_of", "error_for"]

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRYABLE_CODES = frozenset(
    {
        "provider_too_many_requests",
        "internal_server_error",
        "provider_error",
        "temporarily_unavailable",
        "connector_overload",
        "provider_timeout",
        "connector_timeout",
        "server_error",
    }
)
# Codes that waiting cannot fix: the bank's "4 unattended calls a day" (a 429), and the
# provider lacking the feature (Data API v3 answers 502 "Feature Not Supported").
FEATURE_NOT_SUPPORTED = frozenset({"Feature Not Supported", "feature_not_supported"})
NOT_RETRYABLE_CODES = frozenset({"provider_request_limit_exceeded", *FEATURE_NOT_SUPPORTED})

_MAX_DESCRIPTION = 300
_REDACT_SCAN = 8192  # bytes of a non-JSON error body redacted before its snippet is cut


class Api(enum.Enum):
    """Which TrueLayer API a request went to; it picks the error family."""

    AUTH = "auth"
    DATA = "data"
    VERIFICATION = "verification"


_FAMILY: dict[Api, type[e.ApiError]] = {
    Api.AUTH: e.AuthApiError,
    Api.DATA: e.DataApiError,
    Api.VERIFICATION: e.VerificationApiError,
}


def correlation_id_of(headers: Mapping[str, str]) -> str | None:
    """``X-TL-Correlation-Id``, else ``Tl-Trace-Id``; ``headers`` must be case-insensitive."""
    return headers.get("x-tl-correlation-id") or headers.get("tl-trace-id") or None


def _text(value: Any) -> str | None:
    # Whole: error_for cuts it to _MAX_DESCRIPTION only after redaction, so a secret
    # straddling the cut cannot leave its first part behind.
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _capped(text: str | None) -> str | None:
    return None if text is None else text[:_MAX_DESCRIPTION]


def parse_error_body(body: bytes) -> tuple[str | None, str | None, dict[str, Any], str | None]:
    """Return (error, description, details, trace_id) from either error shape, or Nones."""
    try:
        data = loads(body)
    except e.MalformedResponseError:
        return None, None, {}, None
    if not isinstance(data, dict):
        return None, None, {}, None
    if "error" in data and isinstance(data["error"], str):
        details = data.get("error_details")
        return (
            _text(data["error"]),
            _text(data.get("error_description")),
            details if isinstance(details, dict) else {},
            None,
        )
    if "title" in data or "type" in data:  # problem+json
        title = data.get("title")
        type_ = data.get("type")
        code = title if isinstance(title, str) else type_ if isinstance(type_, str) else None
        errors = data.get("errors")
        trace = data.get("trace_id") or data.get("traceId")
        return (
            _text(code),
            _text(data.get("detail")),
            {"errors": errors} if isinstance(errors, dict) else {},
            _text(trace),
        )
    return None, None, {}, None


def error_code_of(body: bytes) -> str | None:
    """TrueLayer's error code in an error body, if it has one."""
    return parse_error_body(body)[0]


def _missing_scopes(details: Mapping[str, Any]) -> tuple[str, ...]:
    # The emulator's error_details {"missing_scopes": [...]}; TrueLayer's shape is unknown.
    value = details.get("missing_scopes")
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return ()


def error_for(
    api: Api,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    retry_after: float | None = None,
    redact: tuple[Secret, ...] = (),
) -> e.TrueLayerError:
    """The exception for an error response from ``api``.

    ``redact`` holds the secrets the request sent: a server that echoes one (in its
    ``error_description``, say), raw, percent-, form- or JSON-encoded, does not get it
    into the exception (SEC-06).
    """
    error, description, details, trace = parse_error_body(body)
    if error is None:
        content_type = headers.get("content-type", "")
        if "json" not in content_type and body.strip():
            # An HTML gateway page or plain text: describe it without echoing it. Known
            # secrets go first, whole, before the snippet could cut one in two.
            if redact:
                text = _redacted(body[:_REDACT_SCAN].decode("utf-8", "replace"), redact)
                body = text.encode()
            description = (
                f"non-JSON error body ({content_type or 'no content type'}): "
                + (scrubbed_snippet(body)[:80])
            )
    if redact:
        error, description, details, trace = _redacted(
            (error, description, details, trace), redact
        )
    error, description, trace = _capped(error), _capped(description), _capped(trace)
    correlation_id = correlation_id_of(headers) or trace
    kwargs: dict[str, Any] = {"details": details, "correlation_id": correlation_id}
    cls: type[e.ApiError] = _FAMILY[api]
    if status == 429:
        return e.RateLimitedError(status, error, description, retry_after=retry_after, **kwargs)
    if api is Api.AUTH:
        if error in ("invalid_client", "unauthorized_client"):
            cls = e.InvalidClientError
        elif status >= 500:
            cls = e.TokenEndpointUnavailable
    elif api is Api.DATA:
        if status == 404 and error == "account_not_found":
            cls = e.AccountNotFoundError
        elif status == 501 or (status >= 500 and error in FEATURE_NOT_SUPPORTED):
            cls = e.EndpointNotSupportedError
        elif status == 403 and error == "sca_exceeded":
            cls = e.ScaExceededError
        elif status == 403 and error == "insufficient_scope":
            return e.InsufficientScopeError(
                status, error, description, missing_scopes=_missing_scopes(details), **kwargs
            )
        elif status == 403 and error == "access_denied":
            return e.ReauthorizationRequired(
                status, error, description, reason="consent_expired", **kwargs
            )
    return cls(status, error, description, **kwargs)
