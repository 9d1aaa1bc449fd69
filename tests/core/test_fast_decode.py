"""The speedups decoder (msgspec) against the strict decoder (json + cattrs).

The contract: whenever ``decode_results`` returns a list, the strict decoder accepts the
same body and returns equal models (same Decimal literals, same offsets, real model
classes); whenever the strict decoder rejects a body, ``decode_results`` returns ``None``
(so the caller raises the strict decoder's error). The only documented difference is a
duplicated key that holds no money, which the fast path resolves last-wins.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from unittest import mock

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.fixture_files import fixture_bytes
from truelayer_async import _fast_decode
from truelayer_async._converter import structure_results
from truelayer_async._fast_decode import fast_results
from truelayer_async._json import loads
from truelayer_async.errors import MalformedResponseError
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

FIXTURES = [
    ("accounts.json", Account),
    ("balance.json", AccountBalance),
    ("transactions.json", Transaction),
    ("pending_transactions.json", Transaction),
    ("standing_orders.json", StandingOrder),
    ("direct_debits.json", DirectDebit),
    ("cards.json", Card),
    ("card_balance.json", CardBalance),
    ("card_transactions.json", CardTransaction),
    ("card_transactions_without_type.json", CardTransaction),
    ("info.json", Info),
    ("info_legacy.json", Info),
    ("me.json", Me),
]


def strict(body: bytes, cls: type[Any]) -> list[Any] | None:
    try:
        return structure_results(loads(body), cls)
    except MalformedResponseError:
        return None


def walk(value: Any) -> list[Any]:
    """Every attrs object inside ``value`` (lists, tuples, nested fields)."""
    found: list[Any] = []
    if isinstance(value, list | tuple):
        for item in value:
            found += walk(item)
    elif attrs.has(type(value)):
        found.append(value)
        for field in attrs.fields(type(value)):
            found += walk(getattr(value, field.name))
    return found


def assert_same(fast: list[Any], expected: list[Any]) -> None:
    assert fast == expected
    for got, want in zip(walk(fast), walk(expected), strict=True):
        assert type(got) is type(want)  # never a twin class
        for field in attrs.fields(type(got)):
            a, b = getattr(got, field.name), getattr(want, field.name)
            assert type(a) is type(b)
            if isinstance(a, Decimal):
                assert str(a) == str(b)  # the same literal, not just an equal number
            if hasattr(a, "utcoffset") and hasattr(a, "hour"):
                assert a.utcoffset() == b.utcoffset()


def test_the_speedups_extra_is_installed_for_the_tests() -> None:
    assert _fast_decode.available()


@pytest.mark.parametrize(("name", "cls"), FIXTURES)
def test_every_data_fixture_decodes_the_same_on_both_paths(name: str, cls: type[Any]) -> None:
    body = fixture_bytes(name)
    expected = strict(body, cls)
    assert expected is not None
    fast = fast_results(body, cls)
    if fast is not None:
        assert_same(fast, expected)


@pytest.mark.parametrize(
    "cls",
    [Account, AccountBalance, Transaction, StandingOrder, DirectDebit, Card, CardBalance,
     CardTransaction, Info, Me],
)  # fmt: skip
def test_every_data_model_has_a_fast_plan(cls: type[Any]) -> None:
    assert _fast_decode._make_plan(cls) is not None


def test_the_fast_path_vouches_for_plain_bodies() -> None:
    # Not a shortcut that silently always falls back.
    for name, cls in [
        ("accounts.json", Account),
        ("balance.json", AccountBalance),
        ("cards.json", Card),
        ("card_transactions_without_type.json", CardTransaction),
    ]:
        assert fast_results(fixture_bytes(name), cls) is not None, name


# ----------------------------------------------------------------- money duplicates

ITEM = (
    '"transaction_id":"t1","timestamp":"2024-01-01T00:00:00Z","description":"d",'
    '"transaction_type":"DEBIT","transaction_category":"PURCHASE"'
)


def body_of(*items: str) -> bytes:
    return ('{"results":[' + ",".join("{" + item + "}" for item in items) + "]}").encode()


@pytest.mark.parametrize(
    "item",
    [
        ITEM + ',"amount":1.5,"amount":2.5,"currency":"GBP"',
        ITEM + ',"amount":1.5,"currency":"GBP","currency":"EUR"',
        ITEM + ',"amount":1.5,"\\u0061mount":2.5,"currency":"GBP"',
        ITEM + ',"amount":1.5,"currency":"GBP","running_balance":{"amount":1,"amount":2}',
        ITEM + ',"amount":null,"currency":"GBP"',
        ITEM + ',"amount":"NaN","currency":"GBP"',
        ITEM + ',"amount":" 1","currency":"GBP"',
        ITEM + ',"amount":1.5,"currency":"GBP","running_balance":{"amount":1,"currency":null}',
    ],
)
def test_money_the_fast_path_cannot_vouch_for_goes_to_the_strict_decoder(item: str) -> None:
    body = body_of(item)
    assert fast_results(body, Transaction) is None


def test_a_shadowed_results_list_with_money_is_not_vouched_for() -> None:
    item = ITEM + ',"amount":1.5,"currency":"GBP"'
    body = ('{"results":[{' + item + '}],"results":[{' + item + "}]}").encode()
    assert fast_results(body, Transaction) is None
    assert strict(body, Transaction) is None


def test_a_duplicated_key_without_money_resolves_last_wins_on_the_fast_path() -> None:
    # The documented difference: the strict decoder rejects it, the fast path does not.
    item = ITEM + ',"amount":1.5,"currency":"GBP","description":"again"'
    fast = fast_results(body_of(item), Transaction)
    assert fast is not None
    assert fast[0].description == "again"


def test_numeric_strings_and_integers_become_exact_decimals() -> None:
    body = body_of(
        ITEM + ',"amount":"-12.40","currency":"GBP"',
        ITEM + ',"amount":-0,"currency":"GBP","running_balance":{"amount":500}',
    )
    fast = fast_results(body, Transaction)
    assert fast is not None
    assert_same(fast, strict(body, Transaction) or [])
    assert [str(t.amount) for t in fast] == ["-12.40", "0"]


# --------------------------------------------------------------- differential fuzz


def mostly(valid: st.SearchStrategy[str], odd: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``valid`` nine times in ten, else ``odd`` (values one or both decoders reject)."""
    return st.integers(0, 9).flatmap(lambda n: valid if n else odd)


_AMOUNTS = mostly(
    st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
        st.integers(-(10**20), 10**20).map(str),
        st.sampled_from(["-0", "-0.0", "1e3", "1.5E-2", "12345678901234567.89", '"12.40"']),
    ),
    st.sampled_from(
        ['" 1"', '"NaN"', '"1_000"', '"1e5"', '".5"', "null", "true", '"abc"', "[1]", "{}",
         "1" * 5000, "1." + "0" * 5000]
    ),
)  # fmt: skip
_ZONES = ["Z", "z", "+00:00", "-00:00", "+05:30", "+0530", "-23:59"]
_TIMESTAMPS = mostly(
    st.builds(
        lambda moment, fraction, zone: json.dumps(
            moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + zone
        ),
        st.datetimes(),
        st.sampled_from(["", ".1", ".123", ".123456", ".1234564", ".1234565", ".9999999"]),
        st.sampled_from(_ZONES),
    ),
    st.one_of(
        st.datetimes().map(lambda moment: json.dumps(moment.isoformat())),  # naive
        st.sampled_from(
            [
                '"2024-01-01 00:00:00Z"', '"2024-01-01T00:00Z"', '"2024-01-01"',
                '"2024-01-01T00:00:00+05"',
                '"2024-02-30T00:00:00Z"', '"2024-01-01T24:00:00Z"', '"2024-01-01T23:59:60Z"',
                '"2024-01-01T00:00:00,5Z"', '"9999-12-31T23:59:59.9999999Z"',
                '"2024-12-31T23:59:59.9999995Z"', '"0000-01-01T00:00:00Z"', "null", "0",
            ]
        ),
    ),
)  # fmt: skip
_TYPES = mostly(st.sampled_from(['"DEBIT"', '"CREDIT"']), st.sampled_from(['"NEW"', "null", "1"]))
_CATEGORIES = mostly(
    st.sampled_from(['"PURCHASE"', '"ATM"', '"TRANSFER"']), st.sampled_from(['"NEW"', "null", "1"])
)
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)  # no lone surrogates
_STRINGS = mostly(
    st.one_of(
        _TEXT.map(json.dumps),
        _TEXT.map(lambda text: json.dumps(text, ensure_ascii=False)),
    ),
    st.sampled_from(['"\\ud800"', '"a\\"b"', '"\\u0041"', "null", "1", '""']),
)
_CURRENCIES = mostly(st.sampled_from(['"GBP"', '"EUR"']), st.sampled_from(["null", "1"]))
_OPTIONAL: dict[str, st.SearchStrategy[str]] = {
    "transaction_classification": mostly(
        st.sampled_from(["[]", '["a","b"]']), st.sampled_from(['"ab"', "[1]", "null"])
    ),
    "merchant_name": mostly(_STRINGS, st.just("null")),
    "normalised_provider_transaction_id": _STRINGS,
    "running_balance": mostly(
        st.sampled_from(['{"amount":1.25,"currency":"GBP"}', '{"amount":2}']),
        st.sampled_from(['{"currency":"GBP"}', '{"amount":1,"currency":null}', "null", "[]"]),
    ),
    "meta": mostly(
        st.sampled_from(['{"x":1.50,"y":[1,2.5e3],"z":null}', "{}"]),
        st.sampled_from(["null", "[]"]),
    ),
    "extra": mostly(
        st.sampled_from(["1", '{"a":[]}']), st.sampled_from(['{"amount":1}', '"amount"'])
    ),
}


@st.composite
def transaction_items(draw: st.DrawFn) -> str:
    pairs = [
        ("transaction_id", draw(_STRINGS)),
        ("timestamp", draw(_TIMESTAMPS)),
        ("description", draw(_STRINGS)),
        ("amount", draw(_AMOUNTS)),
        ("currency", draw(_CURRENCIES)),
        ("transaction_type", draw(_TYPES)),
        ("transaction_category", draw(_CATEGORIES)),
    ]
    if draw(st.integers(0, 19)) == 0:  # a required key missing
        pairs.pop(draw(st.integers(0, len(pairs) - 1)))
    pairs += [(key, draw(values)) for key, values in _OPTIONAL.items() if draw(st.booleans())]
    if draw(st.integers(0, 9)) == 0:  # a duplicated key, with or without money
        key = draw(st.sampled_from(["amount", "currency", "description"]))
        pairs.append((key, draw(_AMOUNTS if key == "amount" else _STRINGS)))
    if draw(st.integers(0, 19)) == 0:  # a money key spelled with an escape
        pairs = [("\\u0061mount" if key == "amount" else key, value) for key, value in pairs]
    order = draw(st.permutations(range(len(pairs))))
    return ",".join(f'"{pairs[i][0]}":{pairs[i][1]}' for i in order)


@contextmanager
def chunks_of(size: int | None) -> Iterator[None]:
    """Decode bodies longer than ``size`` bytes in chunks of ``size`` (None: the default)."""
    if size is None:
        yield
        return
    with mock.patch.object(_fast_decode, "_CHUNK_BYTES", size):
        yield


@pytest.mark.parametrize("cls", [Transaction, CardTransaction])  # a card's type is optional
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(transaction_items(), max_size=4),
    st.sampled_from(["", ',"status":"Succeeded"']),
    st.sampled_from([None, 1, 40, 300]),
)
def test_fast_and_strict_agree_on_generated_bodies(
    cls: type[Any], items: list[str], status: str, chunk: int | None
) -> None:
    body = ('{"results":[' + ", ".join("{" + i + "}" for i in items) + "]" + status + "}").encode()
    with chunks_of(chunk):
        fast = fast_results(body, cls)
    expected = strict(body, cls)
    if fast is not None:
        if body.count(b'"description"') > len(fast):
            return  # maybe the documented last-wins difference (non-money duplicate)
        assert expected is not None, body
        assert_same(fast, expected)


# ------------------------------------------------------- card balances: dates, optional money

_DATES = ['"2024-02-29"', '"2023-02-29"', '"2024-13-01"', '"0000-01-01"', '"2024-01-01T10:00:00Z"',
          '"2024-1-1"', '"20240101"', "null", "1"]  # fmt: skip
_MONEY = ["12.5", "-0.01", "500", '"12.50"', '" 1"', "null", '"NaN"', "1e2"]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(_MONEY),
    st.sampled_from(_MONEY),
    st.sampled_from(_DATES),
    st.sampled_from(['"GBP"', '"XXX"', '"gbp"', "null"]),
    st.booleans(),
)
def test_card_balances_agree_on_both_paths(
    current: str, limit: str, due: str, currency: str, twice: bool
) -> None:
    item = (
        f'"current":{current},"credit_limit":{limit},"payment_due_date":{due},'
        f'"currency":{currency},"update_timestamp":"2024-01-01T00:00:00+01:00"'
    )
    if twice:
        item += f',"credit_limit":{limit}'
    body = body_of(item)
    fast = fast_results(body, CardBalance)
    expected = strict(body, CardBalance)
    if fast is not None:
        assert expected is not None, body
        assert_same(fast, expected)


def test_a_model_msgspec_cannot_decode_has_no_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise TypeError("an old msgspec without attrs support")

    monkeypatch.setattr(_fast_decode.msgspec.json, "Decoder", refuse)
    assert _fast_decode._make_plan(Account) is None


@attrs.frozen(cache_hash=True)
class _CachedHash:
    name: str


def test_a_model_with_a_slot_beyond_its_fields_has_no_fast_plan() -> None:
    # msgspec fills the fields only: attrs' cached-hash slot would stay empty and the
    # model's hash() raise AttributeError, so such a model goes to the strict decoder.
    assert _fast_decode._make_plan(_CachedHash) is None
    assert fast_results(b'{"results":[{"name":"a"}]}', _CachedHash) is None


def test_turning_the_fast_path_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_fast_decode, "_ENABLED", False)
    assert not _fast_decode.available()
    assert fast_results(fixture_bytes("accounts.json"), Account) is None


# ------------------------------------------------------------------ chunked decoding

GOOD = ITEM + ',"amount":-1.50,"currency":"GBP","transaction_classification":["A","B"]'


def test_long_bodies_are_decoded_in_chunks_with_the_same_result() -> None:
    body = body_of(*[GOOD.replace('"t1"', f'"t{i}"') for i in range(3_000)])
    assert len(body) > _fast_decode._CHUNK_BYTES
    with mock.patch.object(_fast_decode, "_in_one_piece", side_effect=AssertionError):
        fast = fast_results(body, Transaction)  # the chunked path alone
    assert fast is not None and len(fast) == 3_000
    assert_same(fast, strict(body, Transaction) or [])
    # Repeated values are kept once.
    assert fast[0].transaction_classification is fast[-1].transaction_classification


@pytest.mark.parametrize(
    "body",
    [
        # a string holding "}, {" where a cut could land
        body_of(GOOD, GOOD.replace('"description":"d"', '"description":"x\\"}, {\\"y"'), GOOD),
        # an item holding an array of objects
        body_of(GOOD, GOOD + ',"extra":[{"a":1}, {"b":2}, {"c":3}]', GOOD),
    ],
)
@pytest.mark.parametrize("chunk", [1, 8, 60])
def test_a_cut_inside_an_item_falls_back_to_one_piece(body: bytes, chunk: int) -> None:
    with chunks_of(chunk):
        fast = fast_results(body, Transaction)
    assert fast is not None
    assert_same(fast, strict(body, Transaction) or [])


@pytest.mark.parametrize("chunk", [None, 1, 60])
def test_results_met_first_inside_another_key_is_left_to_the_strict_decoder(
    chunk: int | None,
) -> None:
    body = b'{"x":{"results":[]},"results":[{' + GOOD.encode() + b"}]}"
    with chunks_of(chunk):
        assert fast_results(body, Transaction) is None
    assert strict(body, Transaction) is not None


def test_the_table_of_shared_values_is_emptied_between_chunks_when_full() -> None:
    body = body_of(*[GOOD + f',"merchant_name":"shop {i % 7}"' for i in range(400)])
    with chunks_of(1_000):
        shared = fast_results(body, Transaction)
        with mock.patch.object(_fast_decode, "_SHARED_MAX", 0):
            emptied = fast_results(body, Transaction)
    assert shared is not None and emptied is not None and shared == emptied
    assert shared[0].merchant_name is shared[399].merchant_name  # one object per name
    assert emptied[0].merchant_name is not emptied[399].merchant_name  # table emptied


# ------------------------------------------------------- what msgspec skips, and framing


@pytest.mark.parametrize("space", [b"\x0b", b"\x0c"])
@pytest.mark.parametrize("where", ["start", "end", "after brace", "before close"])
def test_only_json_whitespace_frames_a_chunked_body(space: bytes, where: str) -> None:
    body = body_of(GOOD, GOOD, GOOD)
    body = {
        "start": space + body,
        "end": body + space,
        "after brace": b"{" + space + body[1:],
        "before close": body[:-2] + space + body[-2:],
    }[where]
    assert strict(body, Transaction) is None
    with chunks_of(8):
        assert fast_results(body, Transaction) is None


@pytest.mark.parametrize(
    "extra",
    [b'"\xff"', b'"\xed\xa0\x80"', b'{"k\xc3":1}'],
    ids=["bad byte", "encoded surrogate", "bad key"],
)
@pytest.mark.parametrize("chunk", [None, 8])
def test_invalid_utf8_where_msgspec_does_not_look_is_still_rejected(
    extra: bytes, chunk: int | None
) -> None:
    body = body_of(GOOD, GOOD).replace(b'"d",', b'"d","extra":' + extra + b",", 1)
    assert strict(body, Transaction) is None
    with chunks_of(chunk):
        assert fast_results(body, Transaction) is None
    assert fast_results(b'{"results":[],"x\xff":1}', Account) is None


def test_a_second_results_array_is_never_last_wins() -> None:
    account = json.dumps(json.loads(fixture_bytes("accounts.json"))["results"][0])
    body = f'{{"results":[{account},{account}],"results":[{account}]}}'.encode()
    assert strict(body, Account) is None
    assert fast_results(body, Account) is None
    for chunk in (None, 8):
        with chunks_of(chunk):
            assert (
                fast_results(body_of(GOOD).replace(b"]}", b'],"results":[]}'), Transaction) is None
            )


def test_an_overlong_integer_in_an_ignored_field_passes_unread() -> None:
    # The documented difference: the strict decoder's int-digit limit is not applied to
    # values msgspec skips without reading.
    body = body_of(GOOD + ',"extra":' + "1" * 4301)
    assert strict(body, Transaction) is None
    fast = fast_results(body, Transaction)
    assert fast is not None and fast[0].amount == Decimal("-1.50")
