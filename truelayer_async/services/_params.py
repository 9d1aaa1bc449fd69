"""Data API request parameters checked before any request: date ranges and ``X-PSU-IP``."""

from __future__ import annotations

import ipaddress
from datetime import date, datetime, time, timezone

from .. import errors as e

__all__ = ["DateLike", "date_range", "psu_ip_header"]

DateLike = date | datetime


def _iso(value: DateLike, name: str) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise e.InvalidParameterError(f"{name} must be a date or a timezone-aware datetime")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise e.InvalidParameterError(f"{name} must be a date or a datetime")


def _as_datetime(value: DateLike) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=timezone.utc)


def date_range(from_: DateLike | None, to: DateLike | None) -> dict[str, str]:
    """The ``from``/``to`` query parameters, checked before any request is made."""
    params: dict[str, str] = {}
    if from_ is not None:
        params["from"] = _iso(from_, "from_")
    if to is not None:
        params["to"] = _iso(to, "to")
    if from_ is not None and to is not None and _as_datetime(from_) > _as_datetime(to):
        raise e.InvalidParameterError("from_ must not be after to")
    return params


def psu_ip_header(psu_ip: object) -> str:
    """The ``X-PSU-IP`` value: one IPv4 or IPv6 address, or ``InvalidParameterError``.

    It usually comes from ``X-Forwarded-For``, so it is untrusted: a list, a name, CR/LF
    or non-ASCII text is refused before any request (the message does not echo it).
    """
    if isinstance(psu_ip, str) and psu_ip.isascii():
        try:
            ipaddress.ip_address(psu_ip)
        except ValueError:
            pass
        else:
            return psu_ip
    raise e.InvalidParameterError(
        "psu_ip must be one IPv4 or IPv6 address (the end user's, e.g. the first entry of "
        "X-Forwarded-For)"
    )
