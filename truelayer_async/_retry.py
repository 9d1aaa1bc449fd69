"""Retry decisions that need no network: which failures to retry and how long to wait."""

from __future__ import annotations

import email.utils
import enum
import math
from collections.abc import Mapping

from ._error_mapping import NOT_RETRYABLE_CODES, RETRYABLE_CODES, RETRYABLE_STATUSES

__all__ = ["RetryMode", "keyed_status_retryable", "parse_retry_after", "status_is_retryable"]


class RetryMode(enum.Enum):
    """How far a request may be retried.

    ``IDEMPOTENT``: retried on any network failure and on retryable statuses (GET, DELETE,
    and POSTs without side effects such as the client-credentials grant).
    ``UNSENT_ONLY``: retried only when the request never left (connect errors, pool
    timeouts); a failure after sending surfaces with ``request_sent=True``.
    ``KEYED``: a write carrying an ``Idempotency-Key`` (generated once per logical call
    unless given), resent with the same key and body bytes: retried on any network
    failure, 429 and 5xx, never on 422; a ``Tl-Should-Retry`` header decides otherwise.
    """

    IDEMPOTENT = "idempotent"
    UNSENT_ONLY = "unsent_only"
    KEYED = "keyed"


def status_is_retryable(status: int, error_code: str | None) -> bool:
    """Whether a status (refined by TrueLayer's error code) is worth retrying."""
    if error_code in NOT_RETRYABLE_CODES:
        return False
    return status in RETRYABLE_STATUSES or (status >= 500 and error_code in RETRYABLE_CODES)


def keyed_status_retryable(status: int, headers: Mapping[str, str]) -> bool:
    """Whether a keyed write that got ``status`` may be resent with the same key.

    422 (the key was used for another request) never is. Otherwise ``Tl-Should-Retry``
    (``true``/``false``) decides where present; without it, 429 and 5xx are retried.
    """
    if status == 422:
        return False
    flag = headers.get("tl-should-retry")
    if flag is not None:
        flag = flag.strip().lower()
        if flag in ("true", "false"):
            return flag == "true"
    return status == 429 or status >= 500


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date).

    Returns None for absent, unparsable, non-finite, zero or negative values, so the
    caller falls back to its own back-off. ``headers`` must be case-insensitive;
    ``now`` is the wall clock in unix seconds.
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        seconds = _number(raw_ms)
        if seconds is not None:
            return _positive(seconds / 1000)
    raw = headers.get("retry-after")
    if raw is None:
        return None
    seconds = _number(raw)
    if seconds is not None:
        return _positive(seconds)
    try:
        when = email.utils.parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return _positive(when.timestamp() - now)


def _number(raw: str) -> float | None:
    text = raw.strip()
    if not text or len(text) > 20:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _positive(seconds: float) -> float | None:
    return seconds if seconds > 0 else None
