"""The converter itself: fast path agrees with the detailed path, round trips, TrueLayer's
own OpenAPI examples, and a rough speed guard."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import cattrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.openapi import openapi_document
from tests.support.fixture_files import fixture
from truelayer_async import _converter as conv
from truelayer_async import _json
from truelayer_async import models as m
from truelayer_async.errors import MalformedResponseError

UTC = timezone.utc

# fixture -> (model, how the body is wrapped)
FIXTURE_MODELS: dict[str, tuple[type[Any], str]] = {
    "me.json": (m.Me, "results"),
    "info.json": (m.Info, "results"),
    "info_legacy.json": (m.Info, "results"),
    "accounts.json": (m.Account, "results"),
    "balance.json": (m.AccountBalance, "results"),
    "transactions.json": (m.Transaction, "results"),
    "pending_transactions.json": (m.Transaction, "results"),
    "standing_orders.json": (m.StandingOrder, "results"),
    "direct_debits.json": (m.DirectDebit, "results"),
    "cards.json": (m.Card, "results"),
    "card_balance.json": (m.CardBalance, "results"),
    "card_transactions.json": (m.CardTransaction, "results"),
    "verification_result.json": (m.VerificationResult, "object"),
    "verification_result_failed.json": (m.VerificationResult, "object"),
    "providers.json": (m.Provider, "list"),
    "async_accepted.json": (m.AsyncTask, "object"),
    "async_webhook.json": (m.AsyncWebhook, "object"),
    "extend_no_action_needed.json": (m.ExtendResult, "object"),
    "extend_authentication_needed.json": (m.ExtendResult, "object"),
    "extend_reconfirmation_of_consent_needed.json": (m.ExtendResult, "object"),
    "batch_results.json": (m.BatchResults, "object"),
}


def _structure_any(body: Any, cls: type[Any], wrapping: str) -> Any:
    if wrapping == "results":
        return conv.structure_results(body, cls)
    if wrapping == "list":
        return conv.structure_list(body, cls)
    return conv.structure(body, cls)


def _items(body: Any, wrapping: str) -> list[Any]:
    if wrapping == "results":
        return list(body["results"])
    if wrapping == "list":
        return list(body)
    return [body]


# ------------------------------------------------------------------------ converter basics


def test_make_converter_builds_independent_cattrs_converters() -> None:
    first, second = conv.make_converter(), conv.make_converter(detailed_validation=False)
    assert isinstance(first, cattrs.Converter)
    assert first is not second
    assert first.detailed_validation
    assert not second.detailed_validation
    assert not conv._CONVERTER.detailed_validation
    assert conv._DETAILED_CONVERTER.detailed_validation
    body = fixture("balance.json")["results"][0]
    assert first.structure(body, m.AccountBalance) == second.structure(body, m.AccountBalance)


def test_the_module_converter_is_built_once() -> None:
    import importlib

    again = importlib.import_module("truelayer_async._converter")
    assert again._CONVERTER is conv._CONVERTER


@pytest.mark.parametrize("name", sorted(FIXTURE_MODELS))
def test_fast_and_detailed_converters_agree_on_fixtures(name: str) -> None:
    cls, wrapping = FIXTURE_MODELS[name]
    for item in _items(fixture(name), wrapping):
        fast = conv._CONVERTER.structure(item, cls)
        detailed = conv._DETAILED_CONVERTER.structure(item, cls)
        assert fast == detailed


@pytest.mark.parametrize("name", sorted(FIXTURE_MODELS))
def test_unstructure_round_trips(name: str) -> None:
    cls, wrapping = FIXTURE_MODELS[name]
    structured = _structure_any(fixture(name), cls, wrapping)
    items = structured if isinstance(structured, list) else [structured]
    for item in items:
        assert conv.structure(conv.unstructure(item), cls) == item


def test_unstructure_uses_wire_names_and_json_types() -> None:
    [txn, *_] = conv.structure_results(fixture("transactions.json"), m.Transaction)
    raw = conv.unstructure(txn)
    assert raw["timestamp"] == "2018-03-06T00:00:00+00:00"
    assert raw["transaction_type"] == "DEBIT"
    assert type(raw["transaction_type"]) is str
    assert raw["transaction_classification"] == ["Entertainment", "Games"]
    assert raw["amount"] == Decimal("-2.99")
    assert raw["running_balance"] == {"amount": Decimal("1238.60"), "currency": "GBP"}
    window = conv.unstructure(m.BatchRequestWindow(from_=datetime(2019, 5, 10, tzinfo=UTC)))
    assert window == {"from": "2019-05-10T00:00:00+00:00"}  # None fields are left out
    balance = conv.unstructure(
        conv.structure_results(fixture("card_balance.json"), m.CardBalance)[0]
    )
    assert balance["last_statement_date"] == "2017-01-28"


def test_extend_result_repr_hides_tokens() -> None:
    result = m.ExtendResult(
        action_needed=m.ActionNeeded.NO_ACTION_NEEDED,
        access_token="eyJ-secret-access",
        refresh_token="secret-refresh",
        expires_in=3600,
        token_type="Bearer",
    )
    text = repr(result)
    assert "secret" not in text
    assert "expires_in=3600" in text


def test_models_are_frozen() -> None:
    [txn, *_] = conv.structure_results(fixture("transactions.json"), m.Transaction)
    with pytest.raises(AttributeError):
        txn.amount = Decimal(0)  # type: ignore[misc]


def test_public_names() -> None:
    for name in (
        "Me",
        "Info",
        "Account",
        "AccountBalance",
        "Transaction",
        "StandingOrder",
        "DirectDebit",
        "Card",
        "CardBalance",
        "CardTransaction",
        "VerificationResult",
        "Provider",
        "AccountNumber",
        "ProviderInfo",
        "RunningBalance",
        "InfoAddress",
        "VerificationReport",
        "AccountHolder",
        "ProviderAvailability",
        "AsyncTask",
        "ExtendResult",
        "TransactionCategory",
        "TransactionType",
        "AccountType",
        "ConsentStatus",
        "StandingOrderStatus",
        "DirectDebitStatus",
        "ActionNeeded",
        "AsyncStatus",
    ):
        assert name in m.__all__
        assert getattr(m, name).__doc__


# ----------------------------------------------------- fast path == detailed (property)

_POOL: list[Any] = [
    None,
    True,
    0,
    7,
    Decimal("1.50"),
    Decimal("NaN"),
    "",
    "x",
    "12.30",
    "NaN",
    "2024-01-01",
    "2024-01-01T00:00:00Z",
    "PURCHASE",
    [],
    ["a"],
    [1],
    {},
    {"amount": 1},
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(body: Any, path: tuple[Any, ...], operation: str, value: Any) -> Any:
    body = copy.deepcopy(body)
    if not path:
        return value if operation == "replace" else body
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if operation == "delete" and isinstance(parent, dict):
        del parent[last]
    elif operation == "add" and isinstance(parent, dict):
        parent["zz_unknown"] = value
    else:
        parent[last] = value
    return body


def _outcome(converter: cattrs.Converter, item: Any, cls: type[Any]) -> Any:
    try:
        return ("ok", converter.structure(item, cls))
    except Exception:
        return ("error", None)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_path_accepts_exactly_what_the_detailed_path_accepts(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(FIXTURE_MODELS)))
    cls, wrapping = FIXTURE_MODELS[name]
    item = data.draw(st.sampled_from(_items(fixture(name), wrapping)))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(item)))
        operation = data.draw(st.sampled_from(["replace", "delete", "add"]))
        item = _mutate(item, path, operation, data.draw(st.sampled_from(_POOL)))
    fast = _outcome(conv._CONVERTER, item, cls)
    detailed = _outcome(conv._DETAILED_CONVERTER, item, cls)
    assert fast[0] == detailed[0]
    assert fast[1] == detailed[1]
    if fast[0] == "error":
        with pytest.raises(MalformedResponseError) as info:
            conv.structure(item, cls)
        assert info.value.path is not None
        assert "value rejected" not in str(info.value)  # the detailed path found it


def _aware_datetimes() -> st.SearchStrategy[datetime]:
    return st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    )


_money = st.decimals(places=2, allow_nan=False, allow_infinity=False)
_text = st.text(max_size=20)


@settings(max_examples=150, deadline=None)
@given(
    st.builds(
        m.Transaction,
        transaction_id=_text,
        timestamp=_aware_datetimes(),
        description=_text,
        amount=_money,
        currency=st.sampled_from(["GBP", "EUR", "XTS"]),
        transaction_type=st.one_of(st.sampled_from(m.TransactionType), _text),
        transaction_category=st.one_of(st.sampled_from(m.TransactionCategory), _text),
        transaction_classification=st.lists(_text, max_size=2).map(tuple),
        normalised_provider_transaction_id=st.none() | _text,
        provider_transaction_id=st.none() | _text,
        merchant_name=st.none() | _text,
        running_balance=st.none()
        | st.builds(m.RunningBalance, amount=_money, currency=st.none() | _text),
        meta=st.none() | st.dictionaries(_text, _text | st.integers(), max_size=3),
    )
)
def test_built_transactions_round_trip(txn: m.Transaction) -> None:
    raw = conv.unstructure(txn)
    assert conv.structure(raw, m.Transaction) == txn
    # and through JSON text, with money written as number literals
    encoded = _encode_with_decimal_numbers(raw)
    assert conv.structure(_json.loads(encoded), m.Transaction) == txn


def _encode_with_decimal_numbers(raw: Any) -> bytes:
    """JSON text in which Decimals are written as number literals, digit for digit."""
    marker = "\u0000DEC:"

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{marker}{value}"
        raise TypeError(type(value).__name__)

    text = json.dumps(raw, default=default)
    parts = text.split(f'"{json.dumps(marker)[1:-1]}')
    out = [parts[0]]
    for part in parts[1:]:
        number, rest = part.split('"', 1)
        out.append(number + rest)
    return "".join(out).encode()


# ------------------------------------------------------------ TrueLayer's OpenAPI examples

DATA_EXAMPLES: dict[str, type[Any]] = {
    "GetMe200Response": m.Me,
    "GetInfoTypical200Response": m.Info,
    "GetInfoAllFields200Response": m.Info,
    "GetAccounts200Response": m.Account,
    "GetAccountsAU200Response": m.Account,
    "GetAccount200Response": m.Account,
    "GetAccountAU200Response": m.Account,
    "GetAccountBalance200Response": m.AccountBalance,
    "GetAccountBalanceAU200Response": m.AccountBalance,
    "GetAccountTransactions200Response": m.Transaction,
    "GetAccountTransactionsAU200Response": m.Transaction,
    "GetAccountStandingOrders200Response": m.StandingOrder,
    "GetAccountDirectDebits200Response": m.DirectDebit,
    "GetCards200Response": m.Card,
    "GetCard200Response": m.Card,
    "GetCardTransactions200Response": m.CardTransaction,
}


def _decoded(example: Any) -> Any:
    # The documents were read with floats; go back to text and decode as the SDK does.
    return _json.loads(json.dumps(example).encode())


@pytest.mark.parametrize(("name", "cls"), list(DATA_EXAMPLES.items()))
def test_openapi_data_examples_structure(name: str, cls: type[Any]) -> None:
    example = openapi_document("data-api-v1.json")["components"]["examples"][name]["value"]
    items = conv.structure_results(_decoded(example), cls)
    assert len(items) == len(example["results"])
    assert all(type(item) is cls for item in items)


def test_openapi_card_balance_example_has_an_invalid_timestamp() -> None:
    # The published example says "2017-02-247T17:29:24.740802Z" (day 247).
    examples = openapi_document("data-api-v1.json")["components"]["examples"]
    body = _decoded(examples["GetCardBalance200Response"]["value"])
    with pytest.raises(MalformedResponseError) as info:
        conv.structure_results(body, m.CardBalance)
    assert info.value.path == "$.results[0].update_timestamp"
    assert "2017-02-247" not in str(info.value)
    body["results"][0]["update_timestamp"] = "2017-02-24T17:29:24.740802Z"
    [balance] = conv.structure_results(body, m.CardBalance)
    assert balance.available == Decimal(3279)


def test_openapi_other_examples_structure() -> None:
    data = openapi_document("data-api-v1.json")["components"]["examples"]
    body = _decoded(data["BatchResults200Response"]["value"])
    # The example's card balances have the same day-of-month typo ("2019-05-107").
    with pytest.raises(MalformedResponseError) as info:
        conv.structure(body, m.BatchResults)
    assert info.value.path == "$.results.cards[0].balance.update_timestamp"
    for card in body["results"]["cards"]:
        card["balance"]["update_timestamp"] = "2019-05-10T17:29:24.740802Z"
    batch = conv.structure(body, m.BatchResults)
    # The example's pending transactions carry no transaction_classification.
    assert batch.results.accounts[0].pending_transactions[0].transaction_classification == ()
    task = conv.structure(_decoded(data["AsyncRequestQueued202Response"]["value"]), m.AsyncTask)
    assert task.status is m.AsyncStatus.QUEUED
    for name, action in (
        ("noFurtherActionExample", m.ActionNeeded.NO_ACTION_NEEDED),
        ("goToAuthDialogExample", m.ActionNeeded.RECONFIRMATION_OF_CONSENT_NEEDED),
        ("reauthRequiredExample", m.ActionNeeded.AUTHENTICATION_NEEDED),
    ):
        result = conv.structure(_decoded(data[name]["value"]), m.ExtendResult)
        assert result.action_needed is action
    verification = openapi_document("verification-api.json")["components"]["examples"]
    for name in ("Verification200Response-Match", "Verification200Response-NoMatch"):
        outcome = conv.structure(_decoded(verification[name]["value"]), m.VerificationResult)
        assert outcome.report is not None
        assert len(outcome.report) == 2
    auth = openapi_document("authentication-api.json")["components"]["examples"]
    providers = conv.structure_list(_decoded(auth["GetProviders200Response"]["value"]), m.Provider)
    assert [p.provider_id for p in providers][:2] == ["mock", "ob-transferwise"]
    steps = providers[3].steps
    assert steps is not None
    assert steps[0].fields[0].id == "branch-name"


# ------------------------------------------------------------------------------ speed


def _transactions_body(count: int) -> bytes:
    items = [
        f'{{"transaction_id": "{i:032x}", "normalised_provider_transaction_id": "txn-{i:016x}",'
        f' "provider_transaction_id": "PRV-{i}",'
        f' "timestamp": "2024-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00",'
        f' "description": "CARD PAYMENT TO SHOP {i}", "amount": -12.40, "currency": "GBP",'
        ' "transaction_type": "DEBIT", "transaction_category": "PURCHASE",'
        ' "transaction_classification": ["Shopping", "Groceries"],'
        ' "merchant_name": "Corner Shop",'
        ' "running_balance": {"amount": 950.25, "currency": "GBP"},'
        ' "meta": {"provider_transaction_category": "DEB"}}'
        for i in range(count)
    ]
    return ('{"results": [' + ", ".join(items) + '], "status": "Succeeded"}').encode()


def test_structuring_10k_transactions_builds_no_structure_function_per_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Speed is measured in benchmarks/ (#2), never asserted here. What a test can hold
    # deterministically is the shape that keeps it fast: cattrs generates each model's
    # structure function once, not per call or per item.
    body = _json.loads(_transactions_body(10_000))
    conv.structure_results(body, m.Transaction)  # warm: every hook built
    built: list[Any] = []
    real = conv.make_dict_structure_fn

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(conv, "make_dict_structure_fn", counting)
    assert len(conv.structure_results(body, m.Transaction)) == 10_000
    assert built == []
