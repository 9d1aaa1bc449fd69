"""The periods of a VRP mandate's ``periodic_limits`` (truelayer-api-v3.md §4.9.1).

``calendar`` periods start on calendar boundaries (UTC): day at midnight, week on Monday,
fortnight on every other Monday counted from 1970-01-05, month on the 1st, half-year on
1 January or 1 July, year on 1 January. ``consent`` periods start at the mandate's start
(``valid_from``, else its authorisation) and repeat with the period's length (months
counted as calendar months from that day).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

__all__ = ["PERIODS", "in_window", "window"]

PERIODS = ("day", "week", "fortnight", "month", "half_year", "year")
_DAYS = {"day": 1, "week": 7, "fortnight": 14}
_MONTHS = {"month": 1, "half_year": 6, "year": 12}
_FIRST_MONDAY = date(1970, 1, 5)


def _add_months(day: date, months: int) -> date:
    # The same day ``months`` later, clamped to that month's last day.
    first = _add_months_first(day, months)
    last = _add_months_first(first, 1) - timedelta(days=1)
    return min(first + timedelta(days=day.day - 1), last)


def _add_months_first(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, 1)


def _calendar_start(period: str, today: date) -> date:
    if period == "day":
        return today
    if period == "week":
        return today - timedelta(days=today.weekday())
    if period == "fortnight":
        return today - timedelta(days=(today - _FIRST_MONDAY).days % 14)
    if period == "month":
        return today.replace(day=1)
    if period == "half_year":
        return today.replace(month=1 if today.month <= 6 else 7, day=1)
    return today.replace(month=1, day=1)


def _step(period: str, start: date, count: int) -> date:
    if period in _DAYS:
        return start + timedelta(days=_DAYS[period] * count)
    return _add_months(start, _MONTHS[period] * count)


def window(period: str, alignment: str, now: float, anchor: float) -> tuple[date, date]:
    """The first and last day (inclusive) of the ``period`` holding ``now``."""
    today = datetime.fromtimestamp(now, timezone.utc).date()
    if alignment == "calendar":
        start = _calendar_start(period, today)
        if period in _DAYS:
            end = _step(period, start, 1)
        else:
            end = _add_months_first(start, _MONTHS[period])
    else:
        origin = datetime.fromtimestamp(anchor, timezone.utc).date()
        count = 0
        while _step(period, origin, count + 1) <= today:
            count += 1
        start, end = _step(period, origin, count), _step(period, origin, count + 1)
    return start, end - timedelta(days=1)


def in_window(at: float, first: date, last: date) -> bool:
    """Whether the instant ``at`` falls on a day from ``first`` to ``last``."""
    return first <= datetime.fromtimestamp(at, timezone.utc).date() <= last
