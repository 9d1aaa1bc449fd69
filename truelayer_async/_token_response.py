"""Validating what the token endpoint returns (RFC 6749 §5.1, strictly)."""

from __future__ import annotations

import json
from typing import Any

import attrs

from ._secret import Secret

__all__ = ["TokenGrant", "parse_token_response", "salvage_refresh_token"]

MAX_EXPIRES_IN = 365 * 24 * 3600


@attrs.frozen
class TokenGrant:
    """A validated token response. ``problem`` is set when the response is unusable but
    still carries a refresh token, which must be saved before the error is raised."""

    access_token: Secret | None
    refresh_token: Secret | None
    expires_in: int
    scopes: tuple[str, ...] | None
    problem: str | None = None


def _expires_in(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
        if not (text.isascii() and text.isdigit() and len(text) <= 12):
            return None
        value = int(text)
    if isinstance(value, int) and 0 < value <= MAX_EXPIRES_IN:
        return value
    return None


def parse_token_response(data: Any) -> TokenGrant:
    """Check a decoded token response. Raises ValueError (path only) if nothing is usable."""
    if not isinstance(data, dict):
        raise ValueError(f"token response is a JSON {type(data).__name__}, not an object")
    refresh = data.get("refresh_token")
    refresh_token = Secret(refresh) if isinstance(refresh, str) and refresh else None
    problem: str | None = None
    access = data.get("access_token")
    expires_in = _expires_in(data.get("expires_in"))
    token_type = data.get("token_type")
    if not isinstance(access, str) or not access:
        problem = "$.access_token is missing or not a non-empty string"
    elif not isinstance(token_type, str) or token_type.lower() != "bearer":
        problem = "$.token_type is not 'Bearer'"
    elif expires_in is None:
        problem = "$.expires_in is not a positive integer of sane size"
    scope = data.get("scope")
    scopes = tuple(scope.split()) if isinstance(scope, str) else None
    if problem is not None:
        if refresh_token is None:
            raise ValueError(problem)
        return TokenGrant(None, refresh_token, 0, scopes, problem)
    return TokenGrant(Secret(str(access)), refresh_token, expires_in or 1, scopes)


def salvage_refresh_token(body: bytes) -> Secret | None:
    """The refresh token of a token response rejected as malformed, if it names just one.

    A 200 from the token endpoint may already have rotated the pair (issue #15, item 4):
    when its JSON is refused (a duplicated key, say), the refresh token it carries is
    still the only one left. It is salvaged when the top-level object gives exactly one
    non-empty string value for ``refresh_token`` (repeats of the same value count once).
    """
    try:
        top = json.loads(body.decode("utf-8-sig"), object_pairs_hook=list)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if not isinstance(top, list):
        return None
    values = {v for k, v in top if k == "refresh_token" and isinstance(v, str) and v}
    if len(values) != 1 or any(k == "refresh_token" and v not in values for k, v in top):
        return None
    return Secret(values.pop())
