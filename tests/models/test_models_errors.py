"""Shape errors: one typed error naming the JSON path, never the value (SEC-07);
unknown fields ignored; unknown enum values kept as strings."""

from __future__ import annotations

import copy
import pickle
import traceback
from typing import Any

import pytest

from tests.support.fixture_files import fixture
from truelayer_async import _converter as conv
from truelayer_async.errors import MalformedResponseError
from truelayer_async.models import (
    Account,
    AccountType,
    AsyncStatus,
    AsyncTask,
    ExtendResult,
    Provider,
    ProviderAvailability,
    StandingOrder,
    Transaction,
    TransactionCategory,
    TransactionType,
    VerificationResult,
)

SENTINEL = "SENTINEL-d6f1c9e2"


def _transactions() -> dict[str, Any]:
    body: dict[str, Any] = fixture("transactions.json")
    return body


def _error(body: Any, cls: type[Any] = Transaction) -> MalformedResponseError:
    with pytest.raises(MalformedResponseError) as info:
        conv.structure_results(body, cls, status_code=200, correlation_id="corr-1")
    return info.value


def _assert_clean(err: MalformedResponseError, *secrets: str) -> None:
    """No part of the error, its chain or its traceback text carries the values."""
    assert err.__cause__ is None
    assert err.__context__ is None
    rendered = "".join(traceback.format_exception(err))
    for secret in secrets:
        assert secret not in str(err)
        assert secret not in repr(err)
        assert secret not in rendered
        assert secret not in repr(err.__dict__)


# ------------------------------------------------------------------------ missing fields


@pytest.mark.parametrize(
    "field",
    [
        "transaction_id",
        "timestamp",
        "description",
        "amount",
        "currency",
        "transaction_type",
        "transaction_category",
    ],
)
def test_missing_required_field_names_the_path(field: str) -> None:
    body = _transactions()
    del body["results"][0][field]
    err = _error(body)
    assert err.path == f"$.results[0].{field}"
    assert "required field missing" in str(err)
    assert err.status_code == 200
    assert err.correlation_id == "corr-1"
    _assert_clean(err)


def test_missing_amount_in_a_later_item() -> None:
    body = _transactions()
    del body["results"][2]["amount"]
    err = _error(body)
    assert err.path == "$.results[2].amount"
    assert str(err).startswith("response does not match Transaction: required field missing")
    assert "at $.results[2].amount" in str(err)


def test_missing_nested_required_field() -> None:
    body = _transactions()
    del body["results"][1]["running_balance"]["amount"]
    assert _error(body).path == "$.results[1].running_balance.amount"


def test_missing_required_object() -> None:
    body = fixture("accounts.json")
    del body["results"][1]["account_number"]
    assert _error(body, Account).path == "$.results[1].account_number"


# ---------------------------------------------------------------------------- wrong types


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("amount", "12.3x", "decimal"),
        ("amount", "NaN", "decimal"),
        ("amount", True, "decimal"),
        ("currency", None, "string"),
        ("currency", 826, "string"),
        ("timestamp", 5, "timestamp"),
        ("timestamp", "not a time", "timestamp"),
        ("description", ["a"], "string"),
        ("transaction_type", 1, "string"),
        ("transaction_category", None, "string"),
        ("transaction_classification", "Shopping", "array"),
        ("transaction_classification", None, "array"),
        ("merchant_name", 7, "string"),
        ("running_balance", "950.25", "object"),
        ("running_balance", [1], "object"),
        ("meta", "DEB", "object"),
        ("meta", [], "object"),
    ],
)
def test_wrong_type_names_the_path_not_the_value(field: str, value: Any, reason: str) -> None:
    body = _transactions()
    body["results"][1][field] = value
    err = _error(body)
    assert err.path == f"$.results[1].{field}"
    assert reason in str(err)
    if isinstance(value, str):
        _assert_clean(err, value)
    else:
        _assert_clean(err)


def test_wrong_type_inside_an_array() -> None:
    body = _transactions()
    body["results"][0]["transaction_classification"] = ["Shopping", 5]
    err = _error(body)
    assert err.path == "$.results[0].transaction_classification[1]"


def test_wrong_type_deep_inside_a_list_of_objects() -> None:
    body = fixture("verification_result.json")
    body["report"][0]["account_holders"][0]["match_score"] = SENTINEL
    with pytest.raises(MalformedResponseError) as info:
        conv.structure(body, VerificationResult)
    assert info.value.path == "$.report[0].account_holders[0].match_score"
    assert "integer" in str(info.value)
    _assert_clean(info.value, SENTINEL)


def test_bool_is_not_an_int_and_int_is_not_a_bool() -> None:
    body = fixture("verification_result.json")
    body["match_score"] = True
    with pytest.raises(MalformedResponseError) as info:
        conv.structure(body, VerificationResult)
    assert info.value.path == "$.match_score"
    body = fixture("verification_result.json")
    body["verified"] = 1
    with pytest.raises(MalformedResponseError) as info:
        conv.structure(body, VerificationResult)
    assert info.value.path == "$.verified"


def test_secret_values_never_appear_sec07() -> None:
    # reliability.md SEC-07: expires_in="SENTINEL" -> error names expires_in, not the value.
    body = fixture("extend_no_action_needed.json")
    body["expires_in"] = SENTINEL
    with pytest.raises(MalformedResponseError) as info:
        conv.structure(body, ExtendResult)
    err = info.value
    assert err.path == "$.expires_in"
    assert "expires_in" in str(err)
    _assert_clean(err, SENTINEL, body["access_token"], body["refresh_token"])


def test_several_problems_report_the_first_and_count_the_rest() -> None:
    body = _transactions()
    item = body["results"][0]
    item["currency"] = SENTINEL.encode().hex()[:3]  # still a string: fine
    item["amount"] = SENTINEL
    item["timestamp"] = SENTINEL
    del item["description"]
    err = _error(body)
    assert err.path == "$.results[0].timestamp"  # model field order
    assert "(and 2 more problem(s))" in str(err)
    _assert_clean(err, SENTINEL)


def test_error_survives_pickling() -> None:
    body = _transactions()
    body["results"][0]["amount"] = SENTINEL
    err = _error(body)
    clone = pickle.loads(pickle.dumps(err))
    assert str(clone) == str(err)
    assert clone.path == err.path


# ---------------------------------------------------------------------- envelope shapes


@pytest.mark.parametrize(
    ("body", "path", "words"),
    [
        ([{"results": []}], "$", "got array"),
        ("<html>" + SENTINEL + "</html>", "$", "got string"),
        (None, "$", "got null"),
        (42, "$", "got number"),
        ({"status": "Succeeded"}, "$.results", "no results array"),
        ({"results": {"0": SENTINEL}}, "$.results", "got object"),
        ({"results": SENTINEL}, "$.results", "got string"),
        ({"results": None}, "$.results", "got null"),
        ({"results": [], "status": 3}, "$.status", "expected a string"),
        ({"results": [SENTINEL]}, "$.results[0]", "expected a JSON object"),
        ({"results": [None]}, "$.results[0]", "expected a JSON object"),
    ],
)
def test_bad_envelopes_name_only_types(body: Any, path: str, words: str) -> None:
    err = _error(body)
    assert err.path == path
    assert words in str(err)
    _assert_clean(err, SENTINEL)


def test_structure_list_rejects_non_arrays() -> None:
    with pytest.raises(MalformedResponseError) as info:
        conv.structure_list({"providers": []}, Provider)
    assert info.value.path == "$"
    assert "expected a JSON array of Provider, got object" in str(info.value)


@pytest.mark.parametrize("value", ["recommended_status", ["recommended_status"], 1, True])
def test_all_optional_models_still_require_an_object(value: Any) -> None:
    # ProviderAvailability has only optional fields: a string must not pass as an object
    # just because ``"key" in "some string"`` is a (false) substring test.
    provider = {
        "provider_id": "x",
        "display_name": "y",
        "country": "uk",
        "logo_url": "u",
        "scopes": [],
        "availability": value,
    }
    with pytest.raises(MalformedResponseError) as info:
        conv.structure(provider, Provider)
    assert info.value.path == "$.availability"
    with pytest.raises(MalformedResponseError) as info:
        conv.structure(value, ProviderAvailability)
    assert info.value.path == "$"


def test_custom_root_path() -> None:
    with pytest.raises(MalformedResponseError) as info:
        conv.structure({"results_uri": "u"}, AsyncTask, path="$.task")
    assert info.value.path == "$.task.task_id"


# ------------------------------------------------------- unknown fields and enum values


def test_unknown_fields_are_ignored_at_every_level() -> None:
    body = _transactions()
    body["brand_new_top_level"] = {"x": 1}
    body["results"][0]["brand_new_field"] = [SENTINEL]
    body["results"][0]["running_balance"]["brand_new_nested"] = None
    with_extras = conv.structure_results(body, Transaction)
    assert with_extras == conv.structure_results(_transactions(), Transaction)


def test_unknown_enum_values_are_kept_as_plain_strings() -> None:
    body = _transactions()
    body["results"][0]["transaction_category"] = "CRYPTO"
    body["results"][0]["transaction_type"] = "REVERSAL"
    [txn, *_] = conv.structure_results(body, Transaction)
    assert txn.transaction_category == "CRYPTO"
    assert type(txn.transaction_category) is str
    assert not isinstance(txn.transaction_category, TransactionCategory)
    assert txn.transaction_type == "REVERSAL"
    assert type(txn.transaction_type) is str


def test_known_enum_values_are_members_equal_to_their_strings() -> None:
    [txn, *_] = conv.structure_results(_transactions(), Transaction)
    assert txn.transaction_category is TransactionCategory.PURCHASE
    assert txn.transaction_category == "PURCHASE"
    assert txn.transaction_type is TransactionType.DEBIT
    assert txn.transaction_type == "DEBIT"
    assert str(txn.transaction_type) == "DEBIT"
    assert f"{txn.transaction_category}" == "PURCHASE"
    assert {"PURCHASE": 1}[txn.transaction_category] == 1  # hashes like the string


@pytest.mark.parametrize(
    ("cls", "body", "attr", "expected"),
    [
        (Account, "accounts.json", "account_type", AccountType.TRANSACTION),
        (StandingOrder, "standing_orders.json", "status", "Active"),
    ],
)
def test_enum_fields_accept_unknown_values(
    cls: type[Any], body: str, attr: str, expected: Any
) -> None:
    data = fixture(body)
    data["results"][0][attr] = "SOMETHING_NEW"
    [item, *_] = conv.structure_results(data, cls)
    assert getattr(item, attr) == "SOMETHING_NEW"
    [item, *_] = conv.structure_results(fixture(body), cls)
    assert getattr(item, attr) == expected


def test_unknown_async_and_action_values() -> None:
    task = conv.structure({"results_uri": "u", "task_id": "t", "status": "Paused"}, AsyncTask)
    assert task.status == "Paused"
    envelope = conv.structure_envelope({"results": [], "status": "Delayed"}, Transaction)
    assert envelope.status == "Delayed"
    assert envelope.status != AsyncStatus.RUNNING
    result = conv.structure({"action_needed": "do_a_dance"}, ExtendResult)
    assert result.action_needed == "do_a_dance"


def test_null_optional_fields_read_as_absent() -> None:
    body = _transactions()
    item = body["results"][0]
    for key in ("merchant_name", "running_balance", "meta", "provider_transaction_id"):
        item[key] = None
    [txn, *_] = conv.structure_results(body, Transaction)
    assert txn.merchant_name is None
    assert txn.running_balance is None
    assert txn.meta is None
    assert txn.provider_transaction_id is None


def test_missing_classification_reads_as_empty() -> None:
    body = _transactions()
    del body["results"][0]["transaction_classification"]
    [txn, *_] = conv.structure_results(body, Transaction)
    assert txn.transaction_classification == ()


def test_input_is_not_mutated() -> None:
    body = _transactions()
    before = copy.deepcopy(body)
    conv.structure_results(body, Transaction)
    assert body == before
