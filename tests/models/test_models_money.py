"""Money is Decimal and equals the JSON literal exactly; bad numbers are rejected."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truelayer_async import _converter as conv
from truelayer_async import _json
from truelayer_async.errors import MalformedResponseError
from truelayer_async.models import AccountBalance, CardBalance, Transaction


def _transaction_json(amount_literal: str) -> bytes:
    return (
        '{"results": [{"transaction_id": "t1", "timestamp": "2024-01-01T00:00:00Z",'
        ' "description": "d", "amount": ' + amount_literal + ', "currency": "GBP",'
        ' "transaction_type": "DEBIT", "transaction_category": "PURCHASE",'
        ' "transaction_classification": [],'
        ' "running_balance": {"amount": ' + amount_literal + ', "currency": "GBP"}}]}'
    ).encode()


def _amount(amount_literal: str) -> Decimal:
    [txn] = conv.structure_results(_json.loads(_transaction_json(amount_literal)), Transaction)
    assert txn.running_balance is not None
    assert txn.running_balance.amount == txn.amount
    return txn.amount


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("0.1", "0.1"),
        ("-12.40", "-12.40"),
        ("12345678901234567.89", "12345678901234567.89"),
        ("-0.00", "-0.00"),
        ("1E+2", "1E+2"),
        ("7", "7"),
        ("-2147483649", "-2147483649"),
    ],
)
def test_amount_equals_the_json_literal(literal: str, expected: str) -> None:
    amount = _amount(literal)
    assert type(amount) is Decimal
    assert amount == Decimal(expected)
    assert str(amount) == expected


def test_point_one_is_not_a_float() -> None:
    amount = _amount("0.1")
    assert amount == Decimal("0.1")
    assert amount != Decimal(float("0.1"))  # the binary float is not 0.1
    assert amount + amount + amount == Decimal("0.3")


def test_minus_twelve_forty_keeps_its_trailing_zero() -> None:
    amount = _amount("-12.40")
    assert amount == Decimal("-12.40")
    assert str(amount) == "-12.40"
    assert amount.as_tuple().exponent == -2


def test_large_amount_is_exact() -> None:
    assert _amount("12345678901234567.89") == Decimal("12345678901234567.89")


def _balance(**money: Any) -> AccountBalance:
    body = {"results": [{"currency": "GBP", "current": Decimal("1.00"), **money}]}
    [balance] = conv.structure_results(body, AccountBalance)
    return balance


def test_integer_money_becomes_decimal() -> None:
    balance = _balance(overdraft=500, available=0)
    assert type(balance.overdraft) is Decimal
    assert balance.overdraft == Decimal(500)
    assert balance.available == Decimal(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3279.00", "3279.00"),
        ("-0.01", "-0.01"),
        ("+5", "5"),
        ("42", "42"),
        ("1e3", "1E+3"),
        ("12345678901234567.89", "12345678901234567.89"),
    ],
)
def test_numeric_string_money_is_accepted(text: str, expected: str) -> None:
    body = {"results": [{"current": "20", "available": text}]}
    [balance] = conv.structure_results(body, CardBalance)
    assert balance.available == Decimal(expected)
    assert str(balance.available) == expected
    assert balance.current == Decimal(20)


@pytest.mark.parametrize(
    "bad",
    [
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "sNaN",
        "12.3x",
        "",
        " 12.30",
        "12.30 ",
        "1_000",
        "١٢",  # Arabic-Indic digits: Decimal() would accept them
        "0x10",
        "1." + "0" * 100,
        ".5",
        "5.",
        True,
        False,
        0.1,  # a float never appears from our decoder; refuse rather than round
        None,
        [],
        {},
    ],
    ids=repr,
)
def test_bad_money_is_rejected_without_echoing_it(bad: Any) -> None:
    body = {"results": [{"currency": "GBP", "current": bad}]}
    with pytest.raises(MalformedResponseError) as info:
        conv.structure_results(body, AccountBalance)
    assert info.value.path == "$.results[0].current"
    if isinstance(bad, str) and bad:
        assert bad not in str(info.value)


def test_nan_and_infinity_literals_never_reach_the_models() -> None:
    for literal in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(MalformedResponseError):
            _json.loads(_transaction_json(literal))


@settings(max_examples=200, deadline=None)
@given(
    st.decimals(places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from(["number", "string"]),
)
def test_two_place_decimals_round_trip_through_json_text_exactly(
    amount: Decimal, encoding: str
) -> None:
    literal = str(amount) if encoding == "number" else json.dumps(str(amount))
    decoded = _json.loads(_transaction_json(literal))
    [txn] = conv.structure_results(decoded, Transaction)
    assert txn.amount == amount
    assert str(txn.amount) == str(amount)
    assert txn.running_balance is not None
    assert txn.running_balance.amount == amount
