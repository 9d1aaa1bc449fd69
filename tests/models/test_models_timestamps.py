"""Every timestamp form the Data API uses parses to an aware datetime; dates to date."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from truelayer_async import _converter as conv
from truelayer_async.errors import MalformedResponseError
from truelayer_async.models import CardBalance, Info, Transaction

UTC = timezone.utc
IST = timezone(timedelta(hours=5, minutes=30))


def _timestamp(text: Any) -> datetime:
    conv._TIMESTAMPS.clear()  # exercise the parser, not the cache
    body = {
        "results": [
            {
                "transaction_id": "t",
                "timestamp": text,
                "description": "d",
                "amount": 1,
                "currency": "GBP",
                "transaction_type": "CREDIT",
                "transaction_category": "CREDIT",
            }
        ]
    }
    [txn] = conv.structure_results(body, Transaction)
    return txn.timestamp


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the forms listed in truelayer-api.md section 4.1 and the brief
        ("2017-02-07T17:29:24.740802Z", datetime(2017, 2, 7, 17, 29, 24, 740802, UTC)),
        ("2018-03-06T00:00:00", datetime(2018, 3, 6, tzinfo=UTC)),
        ("2019-07-24T11:29:47.414+00:00", datetime(2019, 7, 24, 11, 29, 47, 414000, UTC)),
        ("2024-01-01T00:00:00.1234567Z", datetime(2024, 1, 1, 0, 0, 0, 123457, UTC)),
        # a fraction and a +HHMM offset that together look like a 3- or 6-digit fraction
        ("2000-01-01T00:00:00.1+0530", datetime(2000, 1, 1, 0, 0, 0, 100000, IST)),
        ("2000-01-01T00:00:00.1234+0530", datetime(2000, 1, 1, 0, 0, 0, 123400, IST)),
        ("2024-01-01T00:00:00.1234564Z", datetime(2024, 1, 1, 0, 0, 0, 123456, UTC)),
        ("2024-01-01T00:00:00.123456789Z", datetime(2024, 1, 1, 0, 0, 0, 123457, UTC)),
        ("2024-01-01T00:00:00.123456499Z", datetime(2024, 1, 1, 0, 0, 0, 123456, UTC)),
        (
            "2024-01-01T10:00:00+05:30",
            datetime(2024, 1, 1, 10, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        ("2017-01-28", datetime(2017, 1, 28, tzinfo=UTC)),
        # more variants seen in the wild
        ("2024-01-01T00:00:00.1Z", datetime(2024, 1, 1, 0, 0, 0, 100000, UTC)),
        ("2024-01-01T00:00:00.12", datetime(2024, 1, 1, 0, 0, 0, 120000, UTC)),
        ("2024-01-01T00:00:00.000Z", datetime(2024, 1, 1, tzinfo=UTC)),
        (
            "2019-07-19T17:28:37.798+01:00",
            datetime(2019, 7, 19, 17, 28, 37, 798000, timezone(timedelta(hours=1))),
        ),
        ("2024-01-01T00:00:00-00:00", datetime(2024, 1, 1, tzinfo=UTC)),
        (
            "2024-06-30T23:59:59.999999-07:00",
            datetime(2024, 6, 30, 23, 59, 59, 999999, timezone(timedelta(hours=-7))),
        ),
        (
            "2024-01-01T10:00:00+0530",
            datetime(2024, 1, 1, 10, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        ("2024-01-01T10:00:00+02", datetime(2024, 1, 1, 10, tzinfo=timezone(timedelta(hours=2)))),
        ("2024-01-01 10:00:00", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-01-01t10:00:00z", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-01-01T10:00", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-01-01T10:00:00,5Z", datetime(2024, 1, 1, 10, 0, 0, 500000, UTC)),
        ("9999-12-31T00:00:00+00:00", datetime(9999, 12, 31, tzinfo=UTC)),
        ("2024-02-29T00:00:00Z", datetime(2024, 2, 29, tzinfo=UTC)),
    ],
)
def test_timestamp_forms(text: str, expected: datetime) -> None:
    parsed = _timestamp(text)
    assert parsed == expected
    assert parsed.tzinfo is not None
    assert parsed.utcoffset() == expected.utcoffset()


def test_naive_timestamps_are_utc() -> None:
    parsed = _timestamp("2018-03-06T00:00:00")
    assert parsed.tzinfo is UTC


def test_fraction_beyond_microseconds_rounds_half_up_and_carries() -> None:
    # The same rule as msgspec (the speedups decoder), so both decoders agree.
    assert _timestamp("2024-12-31T23:59:59.9999995Z") == datetime(2025, 1, 1, tzinfo=UTC)
    assert _timestamp("2024-01-01T00:00:00.9999994Z").microsecond == 999999


def test_rounding_past_year_9999_is_rejected() -> None:
    with pytest.raises(MalformedResponseError, match="timestamp"):
        _timestamp("9999-12-31T23:59:59.9999999Z")


def test_cached_and_uncached_results_agree() -> None:
    text = "2017-02-07T17:29:24.740802Z"
    first = _timestamp(text)
    body = {"results": [{"full_name": "x", "update_timestamp": text}] * 3}
    infos = conv.structure_results(body, Info)
    assert {info.update_timestamp for info in infos} == {first}


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2023-02-29",
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:60:00Z",
        "2024-01-01T00:00:60Z",
        "2024-01-01T00:00:00+24:00",
        "2024-01-01T00:00:00+05:75",
        "2024-01-01T00:00:00+00:00Z",
        "2024-01-01T00:00:00.Z",
        "2024-01-01T00:00:00.12a456Z",
        "2024-01-01X00:00:00",
        "20240101T000000Z",
        "2024-W01-1T00:00:00",
        "2024-1-1T00:00:00",
        "٢٠٢٤-01-01T00:00:00",
        "2024-01-01T00:00:00Z ",
        " 2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00." + "1" * 60 + "Z",
        "2017-02-247T17:29:24.740802Z",  # the typo in the spec's card-balance example
        1514764800,
        1514764800.5,
        None,
        True,
        ["2024-01-01"],
        {"t": "2024-01-01"},
    ],
    ids=repr,
)
def test_bad_timestamps_are_rejected_without_echoing_them(bad: Any) -> None:
    with pytest.raises(MalformedResponseError) as info:
        _timestamp(bad)
    assert info.value.path == "$.results[0].timestamp"
    if isinstance(bad, str) and len(bad) > 3:
        assert bad.strip() not in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-01-28", date(2017, 1, 28)),
        ("2017-02-24T00:00:00", date(2017, 2, 24)),
        ("2017-02-24T00:00:00Z", date(2017, 2, 24)),
        # a date with an offset is the calendar date as written, not converted to UTC
        ("2017-02-24T00:30:00+05:30", date(2017, 2, 24)),
        ("2017-02-24T23:30:00-05:00", date(2017, 2, 24)),
    ],
)
def test_date_fields(text: str, expected: date) -> None:
    body = {"results": [{"current": 1, "last_statement_date": text, "payment_due_date": text}]}
    [balance] = conv.structure_results(body, CardBalance)
    assert balance.last_statement_date == expected
    assert balance.payment_due_date == expected
    assert type(balance.last_statement_date) is date


def test_date_of_birth_midnight_timestamp_is_a_date() -> None:
    body = {"results": [{"full_name": "J", "date_of_birth": "1984-07-03T00:00:00"}]}
    [info] = conv.structure_results(body, Info)
    assert info.date_of_birth == date(1984, 7, 3)
    assert type(info.date_of_birth) is date


@pytest.mark.parametrize(
    "bad", ["2017-02-30", "2017-1-28", "28/01/2017", "2017-01-28T25:00:00", "", 20170128, None]
)
def test_bad_dates_are_rejected(bad: Any) -> None:
    body = {"results": [{"current": 1, "last_statement_date": bad}]}
    if bad is None:  # null means absent for an optional field
        [balance] = conv.structure_results(body, CardBalance)
        assert balance.last_statement_date is None
        return
    with pytest.raises(MalformedResponseError) as info:
        conv.structure_results(body, CardBalance)
    assert info.value.path == "$.results[0].last_statement_date"


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
        ),
    ),
    st.sampled_from(["auto", "milliseconds", "seconds"]),
)
def test_isoformat_output_round_trips(moment: datetime, timespec: str) -> None:
    text = moment.isoformat(timespec=timespec)
    parsed = _timestamp(text)
    if timespec == "milliseconds":
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    elif timespec == "seconds":
        moment = moment.replace(microsecond=0)
    assert parsed == moment
    assert parsed.utcoffset() == moment.utcoffset()


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.sampled_from(["", ".123", ".123456"]),
    st.sampled_from(["", "Z", "+00:00", "-00:00", "+05:30", "-11:45", "+23:59"]),
)
def test_fast_shapes_parse_like_the_general_parser(
    moment: datetime, fraction: str, zone: str
) -> None:
    # The common shapes go through datetime.fromisoformat; the regex parser must agree.
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if len(text) != 19:  # years below 1000 are not zero-padded by every platform's strftime
        return
    text += fraction + zone
    fast = conv._parse_timestamp(text)
    slow = conv._parse_timestamp_slow(text)
    assert fast == slow
    assert fast.utcoffset() == slow.utcoffset()
