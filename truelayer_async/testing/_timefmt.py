"""The timestamp spellings TrueLayer uses, and lenient parsing of ``from``/``to``.

TrueLayer mixes formats: ``2017-02-07T17:29:24.740802Z``, ``2018-03-06T00:00:00`` (no
offset), ``2019-07-24T11:29:47.414+00:00``, ``2020-05-24T15:44:40.077Z`` and bare dates.
The emulator uses all of them on purpose, so SDK parsers get exercised.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

__all__ = [
    "BST",
    "date_only",
    "from_epoch",
    "iso_micro_z",
    "iso_milli_offset",
    "iso_milli_z",
    "iso_naive",
    "iso_offset",
    "iso_seconds_z",
    "parse_bound",
    "token_expiry",
]

BST = timezone(timedelta(hours=1))

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?", re.ASCII
)


def from_epoch(seconds: float) -> datetime:
    """An aware UTC datetime for unix ``seconds``."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def iso_micro_z(moment: datetime) -> str:
    """``2017-02-07T17:29:24.740802Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_milli_z(moment: datetime) -> str:
    """``2020-05-24T15:44:40.077Z``."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def iso_seconds_z(moment: datetime) -> str:
    """``2020-11-19T09:30:00Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_naive(moment: datetime) -> str:
    """``2018-03-06T00:00:00`` (UTC wall time, no offset)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def iso_offset(moment: datetime) -> str:
    """``2024-04-28T00:00:00+00:00``."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def iso_milli_offset(moment: datetime, tz: timezone = timezone.utc) -> str:
    """``2019-07-24T11:29:47.414+00:00`` (or another fixed offset)."""
    return moment.astimezone(tz).isoformat(timespec="milliseconds")


def date_only(moment: datetime | date) -> str:
    """``2017-01-28``."""
    day = moment.date() if isinstance(moment, datetime) else moment
    return day.isoformat()


def token_expiry(seconds: float) -> str:
    """The spelling in ``The token expired at '2020-12-07 12:34:56Z'``."""
    return from_epoch(seconds).strftime("%Y-%m-%d %H:%M:%SZ")


def parse_bound(value: str, *, end_of_day: bool) -> datetime:
    """Parse a ``from``/``to`` value: a date or an ISO-8601 date-time (naive means UTC).

    A bare date as an upper bound covers the whole day. Raises ``ValueError`` when the
    value is malformed.
    """
    if _DATE.fullmatch(value):
        day = date.fromisoformat(value)
        moment = time.max if end_of_day else time.min
        return datetime.combine(day, moment, tzinfo=timezone.utc)
    if _DATETIME.fullmatch(value):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)
    raise ValueError(f"not a date or date-time: {value!r}")
