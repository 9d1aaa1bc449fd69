"""Parsing the redirect back from the auth dialog, strictly."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import parse_qsl, urlsplit

from .errors import (
    AuthorizationCallbackError,
    AuthorizationDenied,
    InvalidParameterError,
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
            else:
                pairs.extend((key, v) for v in value)
        return pairs
    return list(params_or_url)


def _one(pairs: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in pairs if k == name]
    if len(values) > 1:
        cls = StateMismatchError if name == "state" else AuthorizationCallbackError
        raise cls(f"the callback carries {name} more than once")
    return values[0] if values else None


def parse_callback_params(params_or_url: CallbackParams, expected_state: str) -> tuple[str, str]:
    """Check the callback and return ``(code, state)``.

    Raises AuthorizationDenied for ``error=``, StateMismatchError for a missing, wrong,
    duplicated, oversized or non-ASCII state, AuthorizationCallbackError for a missing or
    duplicated code, InvalidParameterError for an oversized callback.
    """
    pairs = _pairs(params_or_url)
    error = _one(pairs, "error")
    state = _one(pairs, "state")
    if error is not None:
        description = _one(pairs, "error_description")
        # The state of an error redirect is still checked: an attacker must not be able
        # to plant a denial, but the denial itself is what the app needs to know.
        raise AuthorizationDenied(error[:100], None if description is None else description[:300])
    if state is None or not state:
        raise StateMismatchError("the callback carries no state")
    if not expected_state:
        raise StateMismatchError("no expected state was given")
    if len(state) > _MAX_STATE or not state.isascii():
        raise StateMismatchError("the callback's state does not match")
    if not hmac.compare_digest(state.encode("ascii"), expected_state.encode("utf-8")):
        raise StateMismatchError("the callback's state does not match")
    code = _one(pairs, "code")
    if not code:
        raise AuthorizationCallbackError("the callback carries no code")
    return code, state
