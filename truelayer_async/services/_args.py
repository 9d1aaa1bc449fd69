"""Checks of arguments shared by the payouts, merchant-account and mandate services."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from .. import errors as e
from .._secret import Secret

__all__ = ["resource_token_arg", "timestamp_arg"]


def resource_token_arg(value: str | Secret | None, *, required: bool = False) -> Secret | None:
    """``value`` as a :class:`Secret` (``None`` allowed unless ``required``)."""
    if value is None and not required:
        return None
    if not isinstance(value, (str, Secret)) or not value:
        raise e.InvalidParameterError("resource_token must be a non-empty string or Secret")
    return Secret.of(value)


def timestamp_arg(value: date | datetime, name: str) -> datetime:
    """A timezone-aware datetime (a ``date`` is midnight UTC), else
    ``InvalidParameterError``."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise e.InvalidParameterError(f"{name} must be a date or a timezone-aware datetime")
        return value
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=timezone.utc)
    raise e.InvalidParameterError(f"{name} must be a date or a timezone-aware datetime")
