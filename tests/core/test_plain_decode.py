"""The pure-Python shortcut (a default install's decoder) against the reference decoder.

The contract is the fast path's (``test_fast_decode.py``): where the shortcut vouches for a
body, its models equal the reference's field by field (same classes, same Decimal
literals, same offsets); where it has any doubt it answers ``None`` and the reference
decides. The only documented difference is last-wins for a duplicated non-money key.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.test_fast_decode import (
    FIXTURES,
    ITEM,
    assert_same,
    body_of,
    strict,
    transaction_items,
)
from tests.support.fixture_files import fixture_bytes
from truelayer_async import _fast_decode, _plain_decode, _results
from truelayer_async._fast_decode import decode_results
from truelayer_async._plain_decode import plain_results
from truelayer_async.models import (
    Account,
    AccountBalance,
    Card,
    CardBalance,
    CardTransaction,
    DirectDebit,
    Info,
    Me,
    StandingOrder,
    Transaction,
)

DATA_MODELS = [Account, AccountBalance, Transaction, StandingOrder, DirectDebit, Card,
               CardBalance, CardTransaction, Info, Me]  # fmt: skip


@pytest.mark.parametrize("cls", DATA_MODELS)
def test_every_data_model_has_a_plain_plan(cls: type[Any]) -> None:
    assert _plain_decode._make_plan(cls) is not None


@pytest.mark.parametrize(("name", "cls"), FIXTURES)
def test_every_data_fixture_decodes_the_same_and_is_vouched_for(name: str, cls: type[Any]) -> None:
    body = fixture_bytes(name)
    expected = strict(body, cls)
    assert expected is not None
    plain = plain_results(body, cls)
    assert plain is not None, name  # not a shortcut that silently always falls back
    assert_same(plain, expected)


@pytest.mark.parametrize(
    "item",
    [
        ITEM + ',"amount":1.5,"amount":2.5,"currency":"GBP"',
        ITEM + ',"amount":1.5,"currency":"GBP","currency":"EUR"',
        ITEM + ',"amount":1.5,"\\u0061mount":2.5,"currency":"GBP"',
        ITEM + ',"amount":1.5,"currency":"GBP","running_balance":{"amount":1,"amount":2}',
        ITEM + ',"amount":null,"currency":"GBP"',
        ITEM + ',"amount":"NaN","currency":"GBP"',
        ITEM + ',"amount":1.5,"currency":"GBP","meta":{"amount":1}',
        ITEM + ',"amount":1.5,"currency":"GBP","running_balance":{"currency":"GBP"}',
        ITEM + ',"amount":NaN,"currency":"GBP"',
        ITEM + ',"amount":1.5,"currency":"GBP","transaction_classification":"ab"',
    ],
)
def test_bodies_it_cannot_vouch_for_go_to_the_reference(item: str) -> None:
    body = body_of(item)
    assert plain_results(body, Transaction) is None
    # ... which decides: the error or the same models.
    if (expected := strict(body, Transaction)) is not None:
        assert_same(decode_results(body, Transaction), expected)


def test_a_second_results_array_or_a_bad_envelope_is_left_to_the_reference() -> None:
    item = "{" + ITEM + ',"amount":1.5,"currency":"GBP"}'
    for body in [
        '{"results":[' + item + '],"results":[' + item + "]}",
        '{"results":[' + item + '],"status":1}',
        '{"results":{}}',
        "[]",
        '{"results":[' + item + "]",
        "",
    ]:
        assert plain_results(body.encode(), Transaction) is None, body


def test_a_duplicated_key_without_money_resolves_last_wins() -> None:
    item = ITEM + ',"amount":1.5,"currency":"GBP","description":"again"'
    plain = plain_results(body_of(item), Transaction)
    assert plain is not None and plain[0].description == "again"


def test_a_bom_and_numeric_strings_read_as_the_reference_reads_them() -> None:
    body = b"\xef\xbb\xbf" + body_of(
        ITEM + ',"amount":"-12.40","currency":"GBP"',
        ITEM + ',"amount":-0,"currency":"GBP","running_balance":{"amount":500}',
    )
    plain = plain_results(body, Transaction)
    assert plain is not None
    assert_same(plain, strict(body, Transaction) or [])
    assert [str(t.amount) for t in plain] == ["-12.40", "0"]


def test_a_default_install_decodes_through_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without msgspec, tl.data's decoding reaches this shortcut (and its answer is used).
    monkeypatch.setattr(_fast_decode, "fast_results", lambda body, item: None)
    calls: list[type[Any]] = []

    def spy(body: bytes, item: type[Any]) -> Any:
        calls.append(item)
        return plain_results(body, item)

    monkeypatch.setattr(_fast_decode, "plain_results", spy)
    from tests.core.test_gc_pause import response

    body = body_of(ITEM + ',"amount":1.5,"currency":"GBP"')
    assert _results.results_of(response(body), Transaction) == strict(body, Transaction)
    assert calls == [Transaction]


@pytest.mark.parametrize("cls", [Transaction, CardTransaction])
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(transaction_items(), max_size=4), st.sampled_from(["", ',"status":"Succeeded"']))
def test_plain_and_reference_agree_on_generated_bodies(
    cls: type[Any], items: list[str], status: str
) -> None:
    body = ('{"results":[' + ", ".join("{" + i + "}" for i in items) + "]" + status + "}").encode()
    plain = plain_results(body, cls)
    expected = strict(body, cls)
    if plain is not None:
        if body.count(b'"description"') > len(plain):
            return  # maybe the documented last-wins difference (non-money duplicate)
        assert expected is not None, body
        assert_same(plain, expected)


_DATES = ['"2024-02-29"', '"2023-02-29"', '"2024-13-01"', '"2024-01-01T10:00:00Z"', "null", "1"]
_MONEY = ["12.5", "-0.01", "500", '"12.50"', '" 1"', "null", '"NaN"', "1e2"]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(_MONEY),
    st.sampled_from(_MONEY),
    st.sampled_from(_DATES),
    st.sampled_from(['"GBP"', '"XXX"', "null"]),
    st.booleans(),
)
def test_card_balances_agree(
    current: str, limit: str, due: str, currency: str, twice: bool
) -> None:
    item = (
        f'"current":{current},"credit_limit":{limit},"payment_due_date":{due},'
        f'"currency":{currency},"update_timestamp":"2024-01-01T00:00:00+01:00"'
    )
    if twice:
        item += f',"credit_limit":{limit}'
    body = body_of(item)
    plain = plain_results(body, CardBalance)
    expected = strict(body, CardBalance)
    if plain is not None:
        assert expected is not None, body
        assert_same(plain, expected)
