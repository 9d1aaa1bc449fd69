"""Checks of arguments shared by the Payments v3 services (payments, payouts, merchant
accounts, mandates)."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any, cast

from .. import errors as e
from .._secret import Secret

__all__ = [
    "end_user_headers",
    "header_value",
    "resource_token_arg",
    "text_arg",
    "timestamp_arg",
    "type_arg",
]


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


def header_value(name: str, value: object) -> str:
    """``value``, a non-empty printable ASCII string (it goes in a header: no CR/LF
    injection), else ``InvalidParameterError`` naming ``name``."""
    if not isinstance(value, str) or not value or not value.isascii() or not value.isprintable():
        raise e.InvalidParameterError(f"{name} must be a non-empty printable ASCII string")
    return value


def end_user_headers(user_ip: str | None, device_user_agent: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if user_ip is not None:
        headers["X-Forwarded-For"] = header_value("user_ip", user_ip)
    if device_user_agent is not None:
        headers["X-Device-User-Agent"] = header_value("device_user_agent", device_user_agent)
    return headers


def type_arg(name: str, value: Any, *types: type) -> None:
    if value is not None and not isinstance(value, types):
        names = " or ".join(t.__name__ for t in types)
        raise e.InvalidParameterError(f"{name} must be a {names}")


def text_arg(name: str, value: Any) -> str:
    """``value``, a non-empty ``str``, else ``InvalidParameterError`` (as :func:`type_arg`
    for a non-string)."""
    type_arg(name, value, str)
    if not value:
        raise e.InvalidParameterError(f"{name} must be a non-empty string")
    return cast(str, value)
