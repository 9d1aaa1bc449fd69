"""Turning an error response (status, headers, body) into the right exception.

Both TrueLayer error shapes are understood: ``{error, error_description, error_details}``
(auth server, Data API v1) and RFC 7807 problem+json (Payments v3, Verification, Data
v3, Signup+, connection extension). The exception class comes from one table,
:data:`ERRORS`, keyed by (API family, status, error code); the code of a problem is its
``title`` or the last part of its ``type`` URL. No body text reaches an exception except
TrueLayer's own code and description. Every error carries the problem's ``type`` and the
``Tl-Should-Retry`` hint when the answer has them, whatever its API.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from . import errors as e
from ._json import loads, scrubbed_snippet
from ._redact import redact as _redacted
from ._secret import Secret

__all__ = [
    "ERRORS",
    "RETRYABLE_CODES",
    "RETRYABLE_STATUSES",
    "Api",
    "correlation_id_of",
    "error_for",
    "signature_refused",
]

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
    PAYMENTS = "payments"
    SIGNUP_PLUS = "signup_plus"


_FAMILY: dict[Api, type[e.ApiError]] = {
    Api.AUTH: e.AuthApiError,
    Api.DATA: e.DataApiError,
    Api.VERIFICATION: e.VerificationApiError,
    Api.PAYMENTS: e.PaymentsApiError,
    Api.SIGNUP_PLUS: e.SignupPlusApiError,
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
        errors = _field_errors(data.get("errors"))
        # Payments v3 spells it trace_id, Verification v3 traceId.
        trace = data.get("trace_id") or data.get("traceId")
        return (
            _text(code),
            _text(data.get("detail")),
            {"errors": errors} if errors is not None else {},
            _text(trace),
        )
    return None, None, {}, None


def _field_errors(errors: Any) -> dict[str, Any] | None:
    # Payments: {field: [messages]}; Verification v3: [{field: message}, ...] -> the former.
    if isinstance(errors, dict):
        return errors
    if isinstance(errors, list) and all(isinstance(item, dict) for item in errors):
        merged: dict[str, list[Any]] = {}
        for item in errors:
            for field, message in item.items():
                merged.setdefault(str(field), []).append(message)
        return merged
    return None


def _type_code(problem_type: str | None) -> str | None:
    # ".../payments-api-errors#idempotency-key-reuse" -> "idempotency-key-reuse"
    if not problem_type:
        return None
    return problem_type.rstrip("/").rsplit("#", 1)[-1].rsplit("/", 1)[-1] or None


def _problem_type(body: bytes) -> str | None:
    try:
        data = loads(body)
    except e.MalformedResponseError:
        return None
    value = data.get("type") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def error_code_of(body: bytes) -> str | None:
    """TrueLayer's error code in an error body, if it has one."""
    return parse_error_body(body)[0]


def _missing_scopes(details: Mapping[str, Any]) -> tuple[str, ...]:
    # The emulator's error_details {"missing_scopes": [...]}; TrueLayer's shape is unknown.
    value = details.get("missing_scopes")
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return ()


@attrs.frozen
class _Parts:
    """An error response taken apart: what every exception of the table is built from."""

    api: Api
    status: int
    error: str | None
    description: str | None
    details: dict[str, Any]
    correlation_id: str | None
    retry_after: float | None
    headers: Mapping[str, str]
    problem_type: str | None

    def kwargs(self) -> dict[str, Any]:
        flag = (self.headers.get("tl-should-retry") or "").strip().lower()
        return {
            "details": self.details,
            "correlation_id": self.correlation_id,
            "api": self.api.value,
            "problem_type": self.problem_type,
            "should_retry": {"true": True, "false": False}.get(flag),
        }


Maker = Callable[[_Parts], e.ApiError]


def _plain(cls: type[e.ApiError]) -> Maker:
    def make(p: _Parts) -> e.ApiError:
        return cls(p.status, p.error, p.description, **p.kwargs())

    return make


def _rate_limited(p: _Parts) -> e.ApiError:
    return e.RateLimitedError(
        p.status, p.error, p.description, retry_after=p.retry_after, **p.kwargs()
    )


def _insufficient_scope(p: _Parts) -> e.ApiError:
    missing = _missing_scopes(p.details)
    return e.InsufficientScopeError(
        p.status, p.error, p.description, missing_scopes=missing, **p.kwargs()
    )


def _consent_expired(p: _Parts) -> e.ApiError:
    return e.ReauthorizationRequired(
        p.status, p.error, p.description, reason="consent_expired", **p.kwargs()
    )


def signature_refused(error: e.ApiError) -> bool:
    """Whether ``error`` is a 401 about the request's ``Tl-Signature`` (TrueLayer's
    ``detail``: ``Invalid request signature.``, ``Tl-Signature verification failed: …``),
    which a new token cannot fix."""
    return error.status_code == 401 and "signature" in (error.description or "").lower()


def _payments_unauthenticated(p: _Parts) -> e.ApiError:
    error = e.PaymentsUnauthenticatedError(p.status, p.error, p.description, **p.kwargs())
    if signature_refused(error):
        return error._retyped(e.RequestSignatureRejectedError)
    return error


ANY = None  # a wildcard in a key of ERRORS
FIVE_XX = "5xx"  # any status from 500 up
StatusKey = int | str | None

#: (API family or ANY, status / FIVE_XX / ANY, error code or ANY) -> exception maker.
#: Looked up from the most to the least precise key (see ``_lookup``).
ERRORS: dict[tuple[Api | None, StatusKey, str | None], Maker] = {
    (ANY, 429, ANY): _rate_limited,
    (Api.AUTH, ANY, "invalid_client"): _plain(e.InvalidClientError),
    (Api.AUTH, ANY, "unauthorized_client"): _plain(e.InvalidClientError),
    (Api.AUTH, FIVE_XX, ANY): _plain(e.TokenEndpointUnavailable),
    (Api.DATA, 404, "account_not_found"): _plain(e.AccountNotFoundError),
    (Api.DATA, 501, ANY): _plain(e.EndpointNotSupportedError),
    **{
        (Api.DATA, FIVE_XX, code): _plain(e.EndpointNotSupportedError)
        for code in FEATURE_NOT_SUPPORTED
    },
    (Api.DATA, 403, "sca_exceeded"): _plain(e.ScaExceededError),
    (Api.DATA, 403, "insufficient_scope"): _insufficient_scope,
    (Api.DATA, 403, "access_denied"): _consent_expired,
    (Api.PAYMENTS, 409, "idempotency-key-concurrency-conflict"): _plain(
        e.IdempotencyConflictError
    ),
    (Api.PAYMENTS, 422, "idempotency-key-reuse"): _plain(e.IdempotencyKeyReuseError),
    (Api.PAYMENTS, 409, "concurrency-conflict"): _plain(e.ResourceConflictError),
    (Api.PAYMENTS, 401, ANY): _payments_unauthenticated,
    (Api.VERIFICATION, 409, "idempotency-key-concurrency-conflict"): _plain(
        e.VerificationIdempotencyConflictError
    ),
    (Api.VERIFICATION, 422, "idempotency-key-reuse"): _plain(
        e.VerificationIdempotencyKeyReuseError
    ),
}


def _lookup(api: Api, status: int, codes: tuple[str, ...]) -> Maker:
    # Cross-API rules (429) first; then a known code beats "any code", and for each code
    # the exact status beats "any 5xx", which beats "any status".
    statuses: tuple[StatusKey, ...] = (status, FIVE_XX, ANY) if status >= 500 else (status, ANY)
    for family in (ANY, api):
        for code in (*codes, ANY):
            for key_status in statuses:
                maker = ERRORS.get((family, key_status, code))
                if maker is not None:
                    return maker
    return _plain(_FAMILY[api])


def _codes(error: str | None, problem_type: str | None) -> tuple[str, ...]:
    # The code as sent, a problem title as a slug ("Idempotency-Key Reuse" ->
    # "idempotency-key-reuse"), and the last part of a problem type URL.
    found: list[str] = []
    for code in (error, _slug(error), _type_code(problem_type)):
        if code and code not in found:
            found.append(code)
    return tuple(found)


def _slug(text: str | None) -> str | None:
    return None if text is None else "-".join(text.lower().split())


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
    problem_type = _problem_type(body) if error is not None else None
    if redact and problem_type is not None:
        problem_type = _redacted(problem_type, redact)
    parts = _Parts(
        api, status, error, description, details, correlation_id, retry_after, headers,
        _capped(problem_type),
    )  # fmt: skip
    return _lookup(api, status, _codes(error, problem_type))(parts)
