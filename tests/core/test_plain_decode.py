"""The pure-Python shortcut (a default install's decoder) against the reference decoder.

The contract is the fast path's (``test_fast_decode.py``): where the shortcut vouches for a
body, its models equal the reference's field by field (same classes, same Decimal
literals, same offsets); where it has any doubt it answers ``None`` and the reference
decides. The only documented difference is last-wins for a duplicated non-money key.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime
from typing import Any

import attrs
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
from truelayer_async import _converter, _fast_decode, _plain_decode, _plain_structure, _results
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
from truelayer_async.models.transactions import RunningBalance

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
    answers: list[Any] = []

    def spy(body: bytes, item: type[Any]) -> Any:
        calls.append(item)
        answers.append(plain_results(body, item))
        return answers[-1]

    monkeypatch.setattr(_fast_decode, "plain_results", spy)
    from tests.core.test_gc_pause import response

    body = body_of(ITEM + ',"amount":1.5,"currency":"GBP"')
    decoded = _results.results_of(response(body), Transaction)
    assert decoded == strict(body, Transaction)
    assert calls == [Transaction]
    assert decoded is answers[0]  # the shortcut's own list, not the reference's


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


# ------------------------------------------------- models built in the JSON object hook

GOOD = ITEM + ',"amount":1.5,"currency":"GBP"'


def test_models_are_the_real_frozen_classes_never_a_twin() -> None:
    body = body_of(GOOD + ',"running_balance":{"amount":2,"currency":"GBP"}')
    plain = plain_results(body, Transaction)
    assert plain is not None
    (item,) = plain
    assert type(item) is Transaction and type(item.running_balance) is RunningBalance
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        item.amount = 0  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del item.running_balance.amount  # type: ignore[union-attr]
    fields = {f.name: getattr(item, f.name) for f in attrs.fields(Transaction)}
    assert item == Transaction(**fields)
    assert hash(item) == hash(strict(body, Transaction)[0])  # type: ignore[index]


@pytest.mark.parametrize(
    "item",
    [
        # An object holding the marker key ("transaction_id") outside the results list:
        # the hook builds a model there, which the tally catches.
        GOOD + ',"meta":{"transaction_id":"x"}',
        GOOD + ',"meta":{"deeper":[{"a":{"transaction_id":"x","timestamp":"2024-01-01"}}]}',
        GOOD + ',"extra":{' + GOOD + "}",
        GOOD + ',"running_balance":{"amount":1,"transaction_id":"x"}',
        # An item without the marker stays a dict: the reference reports it.
        GOOD.replace('"transaction_id":"t1",', ""),
    ],
)
def test_a_marker_key_where_no_item_is_goes_to_the_reference(item: str) -> None:
    body = body_of(item)
    assert plain_results(body, Transaction) is None
    if (expected := strict(body, Transaction)) is not None:
        assert_same(decode_results(body, Transaction), expected)


@pytest.mark.parametrize(
    "results",
    [
        "[1]",
        '[{"a":1}]',
        "[[]]",
        "[{" + GOOD + "},null]",
        '[{"wrapped":{' + GOOD + "}}]",  # as many models as items, but not as the items
        "{" + GOOD + "}",
    ],
)
def test_results_that_are_not_all_items_go_to_the_reference(results: str) -> None:
    assert plain_results(('{"results":' + results + "}").encode(), Transaction) is None


@attrs.frozen(kw_only=True)
class _Inner:
    key: str


@attrs.frozen(kw_only=True)
class _Outer:
    key: str
    inner: _Inner | None = None


def test_the_marker_is_a_required_key_no_nested_model_has() -> None:
    assert _plain_structure._marker(Transaction) == "transaction_id"
    assert _plain_structure._marker(RunningBalance) == "amount"
    with pytest.raises(_plain_structure.Unsupported):
        _plain_structure._marker(_Outer)  # its only required key is a nested model's too
    assert _plain_decode._make_plan(_Outer) is None
    assert _plain_decode._make_plan(_Inner) is not None


@attrs.frozen(cache_hash=True)
class _CachedHash:
    name: str


def test_a_model_with_a_slot_beyond_its_fields_goes_to_the_reference() -> None:
    # attrs' cached hash is a slot __init__ fills; a bare instance would lack it (its
    # hash() raises AttributeError), so the shortcut must not build the model.
    assert _plain_decode._make_plan(_CachedHash) is None
    assert plain_results(b'{"results":[{"name":"a"}]}', _CachedHash) is None


def test_each_hook_has_its_own_tally_which_starts_again_when_read() -> None:
    make = _plain_structure.hook_maker(RunningBalance, {})
    hook_a, finish_a = make()
    hook_b, finish_b = make()
    hook_a({"amount": 1, "currency": "GBP"})
    hook_a({"amount": 2})
    hook_b({"other": 1})
    assert (finish_a(), finish_b()) == ((2, [2, 1]), (0, [0, 0]))
    assert finish_a() == (0, [0, 0])
    hook_a({"amount": 3})
    assert finish_a() == (1, [1, 0])


def test_a_failed_decode_leaves_no_tally_behind() -> None:
    # Decoders are reused: a body that fails half way must not count for the next one.
    plan = _plain_decode._make_plan(Transaction)
    assert plan is not None
    half = body_of(GOOD, GOOD + ',"amount":1.5,"currency":1')  # the second item: a doubt
    assert plain_results(half, Transaction) is None
    assert [finish() for _, finish in plan.idle] == [(0, [0, 0])] * len(plan.idle)
    body = body_of(GOOD, GOOD)
    assert_same(plain_results(body, Transaction) or [], strict(body, Transaction) or [])


def test_concurrent_decodes_use_their_own_decoders() -> None:
    bodies = [body_of(*[GOOD] * n) for n in (1, 40, 80, 120)]
    expected = [strict(body, Transaction) for body in bodies]
    failures: list[Any] = []
    start = threading.Barrier(4)

    def work() -> None:
        start.wait()
        for _ in range(10):
            for body, want in zip(bodies, expected, strict=True):
                got = plain_results(body, Transaction)
                if got != want:
                    failures.append((len(body), got))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns inside each other's decodes
    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert failures == []


# -------------------------------------------------------------------------- envelope


def _no_whole_envelope(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str, decoder: Any) -> Any:
        raise AssertionError("TrueLayer's envelope shape was decoded whole")

    monkeypatch.setattr(_plain_decode, "_whole_envelope", refuse)


@pytest.mark.parametrize(
    "template",
    [
        '{"results":[%s],"status":"Succeeded"}',
        '{"results":[%s]}',
        '\ufeff \n{ "results" :\t[%s] ,\r\n "status" : null }\n',
        '{"results":[%s],"status":"Queued"}',
    ],
)
def test_truelayers_envelope_is_read_without_decoding_it_whole(
    template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_whole_envelope(monkeypatch)
    body = (template % ("{" + GOOD + "}")).encode()
    plain = plain_results(body, Transaction)
    assert plain is not None
    assert_same(plain, strict(body, Transaction) or [])


def test_a_pretty_printed_body_is_read_without_decoding_it_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_whole_envelope(monkeypatch)
    envelope = json.loads(fixture_bytes("transactions.json"))
    body = json.dumps(envelope, indent=2).encode()
    plain = plain_results(body, Transaction)
    assert plain is not None
    assert_same(plain, strict(body, Transaction) or [])


@pytest.mark.parametrize(
    ("template", "vouched"),
    [
        ('{"status":"Succeeded","results":[%s]}', True),  # other order: decoded whole
        ('{"results":[%s],"status":"Succeeded","next":null}', True),
        ('{"results":[%s],"status":"Succeeded\\u00e9"}', True),
        ('{"results":[%s],"status":"Succeeded","results":[]}', False),
        ('{"results":[],"results":[%s]}', False),
        ('{"results":[%s],"status":1}', False),
        ('{"results":[%s],"status":"Succeeded"', False),
        ('{"results":[%s]} {}', False),
        ('{"results":[%s]},', False),
    ],
)
def test_other_envelopes_are_decoded_whole(template: str, vouched: bool) -> None:
    body = (template % ("{" + GOOD + "}")).encode()
    plain = plain_results(body, Transaction)
    assert (plain is not None) is vouched
    if plain is not None:
        assert_same(plain, strict(body, Transaction) or [])


# ------------------------------------------------------------------------ timestamps


@pytest.fixture
def no_cached_timestamps() -> Any:
    """Each decoder parses for itself (the reference caches what it parses)."""
    _converter._TIMESTAMPS.clear()
    yield
    _converter._TIMESTAMPS.clear()


def _both(stamp: str) -> tuple[list[Any] | None, list[Any] | None]:
    body = body_of(GOOD.replace('"2024-01-01T00:00:00Z"', json.dumps(stamp)))
    _converter._TIMESTAMPS.clear()
    plain = plain_results(body, Transaction)
    _converter._TIMESTAMPS.clear()
    return plain, strict(body, Transaction)


_STAMP_EDGES = [
    "2024-06-01T12:30:45Z", "2024-06-01T12:30:45+00:00", "2024-06-01T12:30:45-00:00",
    "2024-06-01T12:30:45+05:30", "2024-06-01T12:30:45-23:59", "2024-06-01T12:30:45+01:60",
    "2024-06-01T12:30:45+01:59", "2024-06-01T12:30:45+24:00", "2024-06-01T12:30:45+01:5x",
    "2024-06-01T12:30:45+01:/0", "2024-06-01T12:30:45+01-00", "2024-06-01T12:30:45z",
    "2024-06-01 12:30:45Z", "2024-06-01t12:30:45+01:00", "2024-06-01T12:30:45Q",
    "2024-02-30T12:30:45Z", "2024-06-01T24:00:00+00:00", "2024-06-01T12:30:60Z",
    "20240601T123045+0100Z", "2024-06-01T12:30:45.1+01", "2024-06-01T12:30:4.5+01:00",
    "+2024-06-01T12:30:45Z", "2024-06-01T12:30:45+0100", "２０２４-06-01T12:30:45Z",
    "2024-06-01T12:30:45+01:00 ", "2024-06-01T12:30:45.12+01", "20240601T123045.123+01:00",
    "20240601T123045.123Z", "2024-W22-6T12:30:45+01:00", "2024-W22-6T12:30:45Z",
    "2024-153T12:30:45.1+01:00", "2024-06-01T12:30:45+01:00:00", "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59-00:01",
]  # fmt: skip


@pytest.mark.parametrize("stamp", _STAMP_EDGES)
def test_timestamps_read_inline_agree_with_the_reference(stamp: str) -> None:
    plain, expected = _both(stamp)
    if plain is not None:
        assert expected is not None, stamp
        assert_same(plain, expected)
        assert isinstance(plain[0].timestamp, datetime) and plain[0].timestamp.tzinfo


def test_the_common_shapes_are_vouched_for() -> None:
    for stamp in ["2024-06-01T12:30:45Z", "2024-06-01T12:30:45+05:30", "2024-06-01T12:30:45"]:
        plain, expected = _both(stamp)
        assert plain is not None and expected is not None, stamp
        assert_same(plain, expected)


_SHAPED = st.builds(
    lambda chars, zone: "".join(chars) + zone,
    st.lists(st.sampled_from("0123456789-T: +/x"), min_size=19, max_size=19),
    st.one_of(
        st.just("Z"),
        st.lists(st.sampled_from("0123456789+-:/Z "), min_size=6, max_size=6).map("".join),
    ),
)
_NEAR_SHAPED = st.builds(
    lambda moment, zone, index, char: (
        (moment.strftime("%Y-%m-%dT%H:%M:%S") + zone)[:index]
        + char
        + (moment.strftime("%Y-%m-%dT%H:%M:%S") + zone)[index + 1 :]
    ),
    st.datetimes(),
    st.sampled_from(["Z", "+00:00", "-00:00", "+05:30", "-23:59", "+14:00"]),
    st.integers(0, 24),
    st.sampled_from("0123456789-T:+Z/ .t"),
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(_SHAPED, _NEAR_SHAPED))
def test_timestamps_of_the_common_lengths_agree_with_the_reference(stamp: str) -> None:
    plain, expected = _both(stamp)
    if plain is not None:
        assert expected is not None, stamp
        assert_same(plain, expected)
