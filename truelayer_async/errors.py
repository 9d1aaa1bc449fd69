"""Every exception the SDK raises, in one tree.

::

    TrueLayerError
    ├── ConfigurationError                 bad Session / Environment / store settings
    │   └── InsecureStoreError             a store file is group/world readable or a symlink
    ├── SessionClosedError                 the Session was closed (or entered twice)
    ├── EventLoopMismatchError             the Session is used from a second event loop
    ├── InvalidParameterError (ValueError) a bad argument, caught before any request
    ├── AuthorizationCallbackError         the redirect back from the auth dialog is unusable
    │   ├── StateMismatchError             missing / wrong / duplicated / reused state
    │   │   └── StateExpiredError          the pending authorisation is too old
    │   ├── IssuerMismatchError            ``iss`` names another auth server (RFC 9207)
    │   └── AuthorizationDenied            error=access_denied (or any other error=)
    ├── TokenError                         the SDK cannot produce a usable token
    │   ├── NoTokenError                   nothing is stored for this user and token type
    │   ├── CodeExchangeOutcomeUnknown     the code was sent but no answer came back
    │   ├── TokenPersistenceError          the token store could not save a new token
    │   └── TokenStoreBusy                 the cross-process refresh lock was not free in time
    ├── TransportError                     network failure or timeout, after retries
    │   └── TransportTimeout               a timeout or the per-call deadline ran out
    ├── ApiError                           TrueLayer answered with an error status
    │   ├── AuthApiError                   ... from the auth server
    │   │   ├── InvalidClientError         wrong client id / secret / environment
    │   │   └── TokenEndpointUnavailable   the token endpoint kept failing (5xx)
    │   ├── DataApiError                   ... from the Data API
    │   │   ├── AccountNotFoundError       404 account_not_found
    │   │   ├── EndpointNotSupportedError  501 endpoint_not_supported
    │   │   ├── InsufficientScopeError     the token lacks the scope the endpoint needs
    │   │   ├── ScaExceededError           403 sca_exceeded
    │   │   └── UnauthenticatedError       401 even after one refresh and replay
    │   ├── VerificationApiError           ... from the Verification API v1 / v3 (problem+json)
    │   │   ├── VerificationIdempotencyConflictError  409 (also an IdempotencyConflictError)
    │   │   └── VerificationIdempotencyKeyReuseError  422 (also an IdempotencyKeyReuseError)
    │   ├── SignupPlusApiError             ... from the Signup+ API
    │   ├── PaymentsApiError               ... from the Payments API v3 (problem+json)
    │   │   ├── IdempotencyConflictError   409: a request with this key is in progress
    │   │   ├── IdempotencyKeyReuseError   422: the key was used for a different request
    │   │   ├── ResourceConflictError      409: another request is changing the resource
    │   │   └── PaymentsUnauthenticatedError 401, even after one new client token
    │   │       └── RequestSignatureRejectedError 401: the ``Tl-Signature`` was refused
    │   ├── RateLimitedError               429, after retries (``retry_after`` if known)
    │   └── ReauthorizationRequired        the user must go through the auth dialog again
    ├── MalformedResponseError             a body that is not the JSON we expect
    │   ├── MalformedTokenResponse         ... from the token endpoint
    │   ├── ResponseTooLargeError          the body went over the size cap
    │   └── UnexpectedRedirectError        a 3xx (never followed: it would resend secrets)
    ├── PartialResultError                 a multi-step fetch failed part way (``completed``)
    ├── SignatureVerificationError         a ``Tl-Signature`` does not verify (``reason``)
    ├── WebhookVerificationError           a webhook was refused (fail closed; ``reason``)
    │   ├── WebhookSignatureError          missing, malformed or invalid ``Tl-Signature``
    │   │   └── WebhookAlgorithmError      ``alg`` is not ES512 (or ``tl_version`` not "2")
    │   ├── WebhookKeySetUntrustedError    ``jku`` is not on this environment's allow-list
    │   ├── WebhookUnknownKeyError         ``kid`` is not in the key set, even after a re-fetch
    │   ├── WebhookKeySetUnavailableError  the key set could not be fetched in time
    │   ├── WebhookTimestampError          missing, unreadable or stale timestamp header
    │   └── WebhookPayloadError            the verified body is not a JSON event object
    └── StoreError                         a token store failed
        ├── StoreConflictError             compare-and-set lost against a newer version
        ├── StoreCorruptedError            a stored record cannot be read
        └── StoreDecryptError              a stored record cannot be decrypted

No exception holds a secret: messages carry status codes, TrueLayer error codes,
descriptions and correlation ids, never bodies, tokens, codes or the client secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

__all__ = [
    "AccountNotFoundError",
    "ApiError",
    "AuthApiError",
    "AuthorizationCallbackError",
    "AuthorizationDenied",
    "CodeExchangeOutcomeUnknown",
    "ConfigurationError",
    "DataApiError",
    "DataTransactionsFailedError",
    "EndpointNotSupportedError",
    "EventLoopMismatchError",
    "IdempotencyConflictError",
    "IdempotencyKeyReuseError",
    "InsecureStoreError",
    "InsufficientScopeError",
    "InvalidClientError",
    "InvalidParameterError",
    "IssuerMismatchError",
    "MalformedResponseError",
    "MalformedTokenResponse",
    "NoTokenError",
    "PartialResultError",
    "PaymentsApiError",
    "PaymentsUnauthenticatedError",
    "RateLimitedError",
    "ReauthorizationRequired",
    "RequestSignatureRejectedError",
    "ResourceConflictError",
    "ResponseTooLargeError",
    "ScaExceededError",
    "SessionClosedError",
    "SignatureVerificationError",
    "SignupPlusApiError",
    "StateExpiredError",
    "StateMismatchError",
    "StoreConflictError",
    "StoreCorruptedError",
    "StoreDecryptError",
    "StoreError",
    "TokenEndpointUnavailable",
    "TokenError",
    "TokenPersistenceError",
    "TokenStoreBusy",
    "TransportError",
    "TransportTimeout",
    "TrueLayerError",
    "UnauthenticatedError",
    "UnexpectedRedirectError",
    "VerificationApiError",
    "VerificationIdempotencyConflictError",
    "VerificationIdempotencyKeyReuseError",
    "WaitTimeoutError",
    "WebhookAlgorithmError",
    "WebhookKeySetUnavailableError",
    "WebhookKeySetUntrustedError",
    "WebhookPayloadError",
    "WebhookSignatureError",
    "WebhookTimestampError",
    "WebhookUnknownKeyError",
    "WebhookVerificationError",
]


class TrueLayerError(Exception):
    """Base class of every error raised by truelayer_async.

    Attributes:
        client_correlation_id: the ``X-Client-Correlation-Id`` the failed request carried
            (see :mod:`truelayer_async.correlation`), or ``None``.
    """

    client_correlation_id: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors defeat Exception's default pickling; rebuild from state.
        return (_rebuild, (type(self), str(self)), self.__dict__.copy())


def _rebuild(cls: type[TrueLayerError], message: str) -> TrueLayerError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    return err


class ConfigurationError(TrueLayerError):
    """The Session, Environment or a store was configured in a way that cannot work."""


class InsecureStoreError(ConfigurationError):
    """A token store file is readable by others, or is a symlink."""


class SessionClosedError(TrueLayerError):
    """The Session is closed, was never opened, or was entered twice."""


class EventLoopMismatchError(TrueLayerError):
    """A Session was used from an event loop other than the one that opened it."""


class InvalidParameterError(TrueLayerError, ValueError):
    """An argument was rejected before any request was built or sent."""


class AuthorizationCallbackError(TrueLayerError):
    """The redirect back from the auth dialog cannot be used to exchange a code."""


class StateMismatchError(AuthorizationCallbackError):
    """The ``state`` in the callback is missing, wrong, duplicated or reused."""


class StateExpiredError(StateMismatchError):
    """The pending authorisation for this ``state`` has expired."""


class IssuerMismatchError(AuthorizationCallbackError):
    """The callback's ``iss`` (RFC 9207) is not the issuer of the Session's environment:
    the response comes from another authorization server (a mix-up attack, or a sandbox
    callback reaching a live Session)."""


class AuthorizationDenied(AuthorizationCallbackError):
    """The user (or the bank) refused consent: the callback carried ``error=``."""

    def __init__(self, error: str, description: str | None = None) -> None:
        self.error = error
        self.description = description
        message = f"authorisation denied: {error}"
        if description:
            message += f" ({description})"
        super().__init__(message)


class TokenError(TrueLayerError):
    """The SDK cannot produce a usable token."""


class NoTokenError(TokenError):
    """No token is stored for this user and token type: run the auth flow first."""


class CodeExchangeOutcomeUnknown(TokenError):
    """The code was sent to the token endpoint but no response arrived.

    Codes are single-use, so the exchange is not retried: the user must start the auth
    flow again.
    """


class TokenPersistenceError(TokenError):
    """The token store failed to save a new token.

    The new token is kept in memory and the write is retried on the next access; no second
    refresh is made because of this failure.
    """


class TokenStoreBusy(TokenError):
    """The token store's refresh lock could not be taken in time."""


class TransportError(TrueLayerError):
    """The network failed (connection refused, reset, timeout), after any retries.

    ``request_sent`` says whether the request may have reached TrueLayer.
    """

    def __init__(self, message: str, *, request_sent: bool = False) -> None:
        self.request_sent = request_sent
        super().__init__(message)


class TransportTimeout(TransportError):
    """A timeout, or the per-call deadline, ran out."""


_ApiErrorT = TypeVar("_ApiErrorT", bound="ApiError")


class ApiError(TrueLayerError):
    """TrueLayer answered with an error.

    Attributes:
        status_code: the HTTP status, or ``None`` when the SDK failed fast without a request.
        error: TrueLayer's error code (``error`` or problem+json ``title``/``type``).
        description: TrueLayer's human-readable description.
        details: ``error_details`` (or problem+json ``errors``), a mapping.
        correlation_id: ``X-TL-Correlation-Id`` or ``Tl-Trace-Id`` (or the body's trace id).
        api: which API answered: ``"auth"``, ``"data"``, ``"verification"``,
            ``"payments"`` or ``"signup_plus"`` (``None`` if unknown).
        problem_type: an RFC 7807 problem's ``type`` URL (names the error precisely;
            ``None`` for the ``{error, error_description}`` shape).
        errors: the problem's ``errors``, field path to messages (400 Invalid
            Parameters), else ``{}``.
        should_retry: the ``Tl-Should-Retry`` header (v3 APIs): whether resending the
            request with the same idempotency key might give another answer (``None`` if
            absent).

    ``title``, ``detail`` and ``trace_id`` name ``error``, ``description`` and
    ``correlation_id`` the problem+json way.
    """

    #: The API family of the class, used when ``api`` is not given.
    default_api: str | None = None

    def __init__(
        self,
        status_code: int | None,
        error: str | None,
        description: str | None = None,
        *,
        details: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
        api: str | None = None,
        problem_type: str | None = None,
        should_retry: bool | None = None,
    ) -> None:
        self.status_code = status_code
        self.error = error
        self.description = description
        self.details: Mapping[str, Any] = details or {}
        self.correlation_id = correlation_id
        self.api = api if api is not None else self.default_api
        self.problem_type = problem_type
        self.should_retry = should_retry
        errors = self.details.get("errors")
        self.errors: Mapping[str, Any] = errors if isinstance(errors, Mapping) else {}
        super().__init__(self._message())

    @property
    def title(self) -> str | None:
        """The problem's ``title`` (the same as ``error``)."""
        return self.error

    @property
    def detail(self) -> str | None:
        """The problem's ``detail`` (the same as ``description``)."""
        return self.description

    @property
    def trace_id(self) -> str | None:
        """The trace id to quote to TrueLayer (the same as ``correlation_id``)."""
        return self.correlation_id

    def _retyped(self, cls: type[_ApiErrorT], **extra: Any) -> _ApiErrorT:
        """This error's fields (status, code, description, details, both correlation ids,
        api, problem type, retry hint) in a ``cls`` (the SDK re-types an error it learnt
        more about)."""
        new = cls(
            self.status_code,
            self.error,
            self.description,
            details=self.details,
            correlation_id=self.correlation_id,
            api=self.api,
            problem_type=self.problem_type,
            should_retry=self.should_retry,
            **extra,
        )
        new.client_correlation_id = self.client_correlation_id
        return new

    def _message(self) -> str:
        parts = []
        if self.status_code is not None:
            parts.append(str(self.status_code))
        parts.append(self.error or "error")
        message = " ".join(parts)
        if self.description:
            message += f": {self.description}"
        if self.correlation_id:
            message += f" [correlation id {self.correlation_id}]"
        return message


class AuthApiError(ApiError):
    """The auth server (``/connect/token``, ``/api/*``, connection extension) refused."""

    default_api = "auth"


class InvalidClientError(AuthApiError):
    """Wrong client id or secret, or credentials for the other environment."""


class TokenEndpointUnavailable(AuthApiError):
    """The token endpoint kept failing with server errors after retries."""


class DataApiError(ApiError):
    """The Data API answered with an error."""

    default_api = "data"


class AccountNotFoundError(DataApiError):
    """404 ``account_not_found``: the account or card id is unknown."""


class EndpointNotSupportedError(DataApiError):
    """501 ``endpoint_not_supported``: the provider does not offer this resource."""


class InsufficientScopeError(DataApiError):
    """The user's token was not granted a scope this endpoint needs.

    Raised before any request when the token's scopes are known (``Token.scopes``), with
    ``status_code=None``; or from a 403 ``insufficient_scope`` answer. ``missing_scopes``
    names what is missing (empty when the server did not say). Unlike
    :class:`ReauthorizationRequired`, the stored token is still good for the endpoints it
    covers; to reach this one, send the user through an auth link asking for the scope.
    """

    def __init__(
        self,
        status_code: int | None,
        error: str | None,
        description: str | None = None,
        *,
        details: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
        api: str | None = None,
        problem_type: str | None = None,
        should_retry: bool | None = None,
        missing_scopes: tuple[str, ...] = (),
    ) -> None:
        self.missing_scopes = missing_scopes
        super().__init__(
            status_code,
            error,
            description,
            details=details,
            correlation_id=correlation_id,
            api=api,
            problem_type=problem_type,
            should_retry=should_retry,
        )


class ScaExceededError(DataApiError):
    """403 ``sca_exceeded``: the resource is only reachable just after the user authenticated."""


class UnauthenticatedError(DataApiError):
    """401 again after the token was refreshed and the request replayed once."""


class VerificationApiError(ApiError):
    """The Verification API (v1 or v3) answered with a problem+json error."""

    default_api = "verification"


class SignupPlusApiError(ApiError):
    """The Signup+ API answered with an error (problem+json fields as on
    :class:`ApiError`)."""

    default_api = "signup_plus"


class PaymentsApiError(ApiError):
    """The Payments API v3 answered with an ``application/problem+json`` error.

    ``error`` is the problem's ``title``, ``description`` its ``detail`` and
    ``correlation_id`` its ``Tl-Trace-Id`` (or ``trace_id``); ``problem_type``,
    ``errors`` and ``should_retry`` are filled (see :class:`ApiError`).
    """

    default_api = "payments"


class PaymentsUnauthenticatedError(PaymentsApiError):
    """401 ``Unauthenticated`` from a v3 Payments API: the token was refused.

    With the client-credentials token the SDK has already dropped the cached token,
    fetched a new one and replayed the request once; this is the answer to the replay.
    With a ``resource_token`` nothing was replayed (the SDK cannot renew it).
    """


class RequestSignatureRejectedError(PaymentsUnauthenticatedError):
    """401: TrueLayer refused the request's ``Tl-Signature`` (``detail`` names the
    signature, e.g. ``Invalid request signature.``).

    Not a token problem: no new token is fetched and nothing is replayed. Check that
    ``signing_key_id`` names a public key registered in TrueLayer Console for this client
    and environment, and that it matches ``signing_private_key``.
    """


class IdempotencyConflictError(PaymentsApiError):
    """409 Idempotency-Key Concurrency Conflict: a request with this key is still running.

    Resend it later with the same key and body to learn its outcome.
    """


#: The earlier name, kept as an alias.
IdempotencyKeyConflictError = IdempotencyConflictError


class IdempotencyKeyReuseError(PaymentsApiError):
    """422 Idempotency-Key Reuse: the key was already used for a different request.

    Never retried: it means a bug or a changed body. Use a new key for a new operation.
    """


class ResourceConflictError(PaymentsApiError):
    """409 Concurrency Conflict: another request is changing the same resource."""


class VerificationIdempotencyConflictError(VerificationApiError, IdempotencyConflictError):
    """409 Idempotency-Key Concurrency Conflict from Verification v3 (a
    :class:`VerificationApiError` that ``except IdempotencyConflictError`` also catches)."""


class VerificationIdempotencyKeyReuseError(VerificationApiError, IdempotencyKeyReuseError):
    """422 Idempotency-Key Reuse from Verification v3 (a :class:`VerificationApiError`
    that ``except IdempotencyKeyReuseError`` also catches)."""


class RateLimitedError(ApiError):
    """429 after retries; ``retry_after`` holds the server's hint in seconds, if any."""

    def __init__(
        self,
        status_code: int | None,
        error: str | None,
        description: str | None = None,
        *,
        details: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
        api: str | None = None,
        problem_type: str | None = None,
        should_retry: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(
            status_code,
            error,
            description,
            details=details,
            correlation_id=correlation_id,
            api=api,
            problem_type=problem_type,
            should_retry=should_retry,
        )


class ReauthorizationRequired(ApiError):
    """The user must go through the auth dialog again.

    ``reason`` is one of ``invalid_grant`` (the refresh token was refused),
    ``refresh_outcome_unknown`` (a refresh was lost in flight and retrying it failed),
    ``consent_expired`` (the Data API answered ``access_denied``), ``no_refresh_token``
    (the token expired and there is no refresh token) or ``marked_invalid`` (an earlier
    refresh failed and the stored credential was marked invalid; no request was sent).
    """

    def __init__(
        self,
        status_code: int | None,
        error: str | None,
        description: str | None = None,
        *,
        details: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
        api: str | None = None,
        problem_type: str | None = None,
        should_retry: bool | None = None,
        reason: str = "invalid_grant",
    ) -> None:
        self.reason = reason
        super().__init__(
            status_code,
            error,
            description,
            details=details,
            correlation_id=correlation_id,
            api=api,
            problem_type=problem_type,
            should_retry=should_retry,
        )


class MalformedResponseError(TrueLayerError):
    """A response body is not the JSON we expect: HTML, truncated, wrong shape, bad types.

    ``snippet`` is a short, scrubbed excerpt; ``path`` names the offending JSON path when
    the shape was wrong.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        content_type: str | None = None,
        snippet: str | None = None,
        path: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.content_type = content_type
        self.snippet = snippet
        self.path = path
        self.correlation_id = correlation_id
        full = message
        if status_code is not None:
            full += f" (status {status_code}"
            if content_type:
                full += f", {content_type}"
            full += ")"
        if path:
            full += f" at {path}"
        if correlation_id:
            full += f" [correlation id {correlation_id}]"
        super().__init__(full)


class MalformedTokenResponse(MalformedResponseError):
    """The token endpoint answered 200 with something that is not a usable token."""


class ResponseTooLargeError(MalformedResponseError):
    """The response body went over the size cap; the connection was closed."""


class UnexpectedRedirectError(MalformedResponseError):
    """TrueLayer answered with a redirect; it is never followed, since that would resend
    the request body (which can hold the client secret) to another place."""


class PartialResultError(TrueLayerError):
    """A multi-step fetch failed part way; ``completed`` holds what was fetched."""

    def __init__(self, message: str, *, completed: Any) -> None:
        self.completed = completed
        super().__init__(message)


class WaitTimeoutError(TrueLayerError, TimeoutError):
    """A ``wait_for()`` poll did not see a wanted or final status before its ``timeout``;
    ``last`` holds the resource as last fetched (e.g. a ``Payment``)."""

    def __init__(self, message: str, *, last: Any) -> None:
        self.last = last
        super().__init__(message)


class DataTransactionsFailedError(TrueLayerError):
    """A Data API v3 transactions request ended ``failed`` (``tl.data_v3.transactions``).

    Attributes:
        request_id: the failed request's id.
        failure_reason: TrueLayer's ``failure_reason`` (``None`` if absent).
        cursor_used: whether it was a later page's request (``True``) or the first
            (``False``); transactions already yielded stay valid.
    """

    def __init__(self, request_id: str, failure_reason: str | None, *, cursor_used: bool) -> None:
        self.request_id = request_id
        self.failure_reason = failure_reason
        self.cursor_used = cursor_used
        super().__init__(
            f"Data v3 transactions request {request_id} failed: {failure_reason or 'no reason'}"
        )


class StoreError(TrueLayerError):
    """A token store operation failed."""


class StoreConflictError(StoreError):
    """Compare-and-set lost: the stored record has a newer version than expected."""


class StoreCorruptedError(StoreError):
    """A stored record exists but cannot be read; it is left untouched."""


class StoreDecryptError(StoreError):
    """A stored record cannot be decrypted with the configured keys; it is left untouched."""


class SignatureVerificationError(TrueLayerError):
    """A ``Tl-Signature`` is malformed or does not verify over the request.

    ``reason`` is a short machine-readable code (``malformed``, ``algorithm``,
    ``missing_header``, ``required_header``, ``invalid``, ``key``). Messages never hold the
    signature, the body or header values.
    """

    def __init__(self, message: str, *, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason  # after super(): the other base sets its own default


class WebhookVerificationError(TrueLayerError):
    """A webhook failed verification and must not be processed (answer it with a 4xx).

    Verification fails closed: any missing header, fetch failure or parse error ends here.
    ``reason`` is a short machine-readable code naming the check that failed.
    """

    def __init__(self, message: str, *, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason  # after super(): the other base sets its own default


class WebhookSignatureError(WebhookVerificationError, SignatureVerificationError):
    """The ``Tl-Signature`` is missing, malformed, or does not verify over the exact body,
    path and signed headers (a tampered or re-serialised body ends here)."""


class WebhookAlgorithmError(WebhookSignatureError):
    """The signature's ``alg`` is not ``ES512`` (or its ``tl_version`` is not ``"2"``)."""


class WebhookKeySetUntrustedError(WebhookVerificationError):
    """The signature's ``jku`` is not on the allow-list for this environment; nothing was
    fetched from it."""


class WebhookUnknownKeyError(WebhookVerificationError):
    """The signature's ``kid`` is not in the key set, even after one re-fetch."""


class WebhookKeySetUnavailableError(WebhookVerificationError):
    """The key set could not be fetched (down, slow, or not a JWKS) within the bound."""


class WebhookTimestampError(WebhookVerificationError):
    """``X-TL-Webhook-Timestamp`` is missing, unreadable, unsigned or outside the tolerance."""


class WebhookPayloadError(WebhookVerificationError):
    """The body verified but is not a JSON object with a string ``type``."""
