"""``unstructure(..., json_safe=True)``: models as plain JSON values, money kept exact."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.support.binaries import require_module
from tests.support.fixture_files import fixture
from truelayer_async import unstructure
from truelayer_async._converter import structure, structure_results
from truelayer_async.models import (
    Account,
    AccountBalance,
    CardBalance,
    CardTransaction,
    DirectDebit,
    StandingOrder,
    Transaction,
)

LISTS: list[tuple[str, type[Any]]] = [
    ("accounts.json", Account),
    ("balance.json", AccountBalance),
    ("transactions.json", Transaction),
    ("standing_orders.json", StandingOrder),
    ("direct_debits.json", DirectDebit),
    ("card_balance.json", CardBalance),
    ("card_transactions_without_type.json", CardTransaction),
]


def test_money_becomes_its_exact_decimal_string() -> None:
    balance = AccountBalance(current=Decimal("500.00"), available=Decimal("1E+3"), currency="GBP")
    safe = unstructure(balance, json_safe=True)
    assert safe == {"current": "500.00", "available": "1000", "currency": "GBP"}
    assert json.loads(json.dumps(safe))["current"] == "500.00"


def test_the_default_still_keeps_decimal() -> None:
    balance = AccountBalance(current=Decimal("500.00"), currency="GBP")
    assert unstructure(balance) == {"current": Decimal("500.00"), "currency": "GBP"}
    with pytest.raises(TypeError):
        json.dumps(unstructure(balance))


@pytest.mark.parametrize(("name", "cls"), LISTS)
def test_json_dumps_works_and_the_round_trip_gives_equal_models(name: str, cls: type[Any]) -> None:
    models = structure_results(fixture(name), cls)
    text = json.dumps(unstructure(models, json_safe=True))
    again = [structure(item, cls) for item in json.loads(text)]
    assert again == models
    for before, after in zip(models, again, strict=True):  # same literals, not just equal
        assert unstructure(before, json_safe=True) == unstructure(after, json_safe=True)


def test_timestamps_are_iso_strings_and_meta_money_is_a_string_too() -> None:
    [txn] = structure_results(
        {
            "results": [
                {
                    "transaction_id": "t1",
                    "timestamp": "2024-05-01T10:00:00+01:00",
                    "description": "d",
                    "amount": Decimal("-12.40"),
                    "currency": "GBP",
                    "transaction_type": "DEBIT",
                    "transaction_category": "PURCHASE",
                    "meta": {"fee": Decimal("0.50"), "nested": [Decimal("1.10")]},
                }
            ]
        },
        Transaction,
    )
    safe = unstructure(txn, json_safe=True)
    assert safe["timestamp"] == "2024-05-01T10:00:00+01:00"
    assert safe["amount"] == "-12.40"
    assert safe["meta"] == {"fee": "0.50", "nested": ["1.10"]}
    json.dumps(safe)


@pytest.mark.asyncio
async def test_a_fastapi_endpoint_returning_the_json_safe_form_keeps_500_00() -> None:
    fastapi = require_module("fastapi")
    app = fastapi.FastAPI()
    balance = AccountBalance(current=Decimal("500.00"), currency="GBP")

    @app.get("/safe")
    async def safe() -> Any:
        return unstructure(balance, json_safe=True)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.get("/safe")
    assert '"current":"500.00"' in response.text
