"""Parsing the redirect back from the auth dialog, strictly."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import parse_qsl, urlsplit

from .errors import (
    AuthorizationCallbackError,
    AuthorizationDenied,
    InvalidParameterError,
    IssuerMismatchError,
    StateMismatchError,
)

__all__ = ["CallbackParams", "parse_callback_params"]

CallbackParams = str | Mapping[str, str] | Mapping[str, Sequence[str]] | Iterable[tuple[str, str]]
_MAX_QUERY = 8192
_MAX_STATE = 1024


def _pairs(params_or_url: CallbackParams) -> list[tuple[str, str]]:
    if isinstance(params_or_url, str):
        text = params_or_url
        if len(text) > _MAX_QUERY:
            raise InvalidParameterError("callback is too long")
        if "?" in text or "://" in text:
            text = urlsplit(text).query
        return parse_qsl(text, keep_blank_values=True)
    if isinstance(params_or_url, Mapping):
        pairs: list[tuple[str, str]] = []
        for key, value in params_or_url.items():
            if isinstance(value, str):
                pairs.append((key, value))
            elif isinstance(value, Sequence):
                pairs.extend((key, v) for v in value)
            else:
                raise AuthorizationCallbackError("callback parameters must be strings")
        return pairs
    pairs = []
    for item in params_or_url:
        if not isinstance(item, tuple) or len(item) != 2:
            raise AuthorizationCallbackError("callback parameters must be (name, value) pairs")
        pairs.append(item)
    return pairs


def _one(pairs: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in pairs if k == name]
    if len(values) > 1:
        cls = StateMismatchError if name == "state" else AuthorizationCallbackError
        raise cls(f"the callback carries {name} more than once")
    return values[0] if values else None


def parse_callback_params(
    params_or_url: CallbackParams, expected_state: str, *, expected_issuer: str | None = None
) -> tuple[str, str]:
    """Check the callback and return ``(code, state)``.

    Raises AuthorizationDenied for ``error=``, StateMismatchError for a missing, wrong,
    duplicated, oversized or non-ASCII state, IssuerMismatchError when the callback carries
    an ``iss`` (RFC 9207) other than ``expected_issuer``, AuthorizationCallbackError for a
    missing or duplicated code, InvalidParameterError for an oversized callback.

    The callback holds the code and the state, so errors are raised from a frame that no
    longer holds them: no traceback local keeps a secret (SEC-03).
    """
    outcome = checked_callback(params_or_url, expected_state, expected_issuer)
    del params_or_url, expected_state
    if isinstance(outcome, Exception):
        raise outcome.with_traceback(None)
    return outcome


def checked_callback(
    params_or_url: CallbackParams, expected_state: str, expected_issuer: str | None
) -> tuple[str, str] | AuthorizationCallbackError | InvalidParameterError:
    """``parse_callback_params``'s verdict, returned rather than raised."""
    try:
        return _parse(params_or_url, expected_state, expected_issuer)
    except (AuthorizationCallbackError, InvalidParameterError) as exc:
        return exc


def _same(given: str, expected: str) -> bool:
    if len(given) > _MAX_STATE or not given.isascii():
        return False
    return hmac.compare_digest(given.encode("ascii"), expected.encode("utf-8"))


def _parse(
    params_or_url: CallbackParams, expected_state: str, expected_issuer: str | None
) -> tuple[str, str]:
    pairs = _pairs(params_or_url)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in pairs):
        raise AuthorizationCallbackError("callback parameters must be strings")
    error = _one(pairs, "error")
    state = _one(pairs, "state")
    issuer = _one(pairs, "iss")
    # RFC 9207: a response from another authorization server (mix-up) is refused, whether
    # it carries a code or an error.
    if (
        issuer is not None
        and expected_issuer is not None
        and not _same(issuer.rstrip("/"), expected_issuer.rstrip("/"))
    ):
        raise IssuerMismatchError("the callback comes from another authorization server")
    if error is not None:
        # A denial that carries a state must carry ours: an attacker cannot plant one in
        # a session that did not start it. A denial without a state is still reported.
        if state and expected_state and not _same(state, expected_state):
            raise StateMismatchError("the callback's state does not match")
        description = _one(pairs, "error_description")
        raise AuthorizationDenied(error[:100], None if description is None else description[:300])
    if state is None or not state:
        raise StateMismatchError("the callback carries no state")
    if not expected_state:
        raise StateMismatchError("no expected state was given")
    if not _same(state, expected_state):
        raise StateMismatchError("the callback's state does not match")
    code = _one(pairs, "code")
    if not code:
        raise AuthorizationCallbackError("the callback carries no code")
    return code, state
