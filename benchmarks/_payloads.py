"""Deterministic TrueLayer-shaped response bodies (Data API v1 wire format)."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

__all__ = ["accounts_body", "balance_body", "token_body", "transactions_body"]

_CATEGORIES = ("PURCHASE", "DIRECT_DEBIT", "BILL_PAYMENT", "TRANSFER", "ATM", "CREDIT")
_CLASSIFICATIONS = (
    ["Shopping", "Groceries"],
    ["Bills and Utilities", "Mobile Phone"],
    ["Transport", "Public transport"],
    ["Entertainment"],
    [],
)
_MERCHANTS = ("Tesco", "TfL", "Amazon", "Pret A Manger", None)


def accounts_body() -> bytes:
    """``GET /data/v1/accounts`` with two accounts, as TrueLayer sends it."""
    accounts = [
        {
            "update_timestamp": "2026-01-05T10:11:12.123456Z",
            "account_id": f"56c7b029e0f8ec5a2334fb0ffc2fface{i}",
            "account_type": kind,
            "display_name": name,
            "currency": "GBP",
            "account_number": {
                "iban": "GB35LOYD12345678901234",
                "number": "12345678",
                "sort_code": "12-34-56",
                "swift_bic": "LOYDGB2L",
            },
            "provider": {
                "display_name": "Lloyds Bank",
                "logo_uri": "https://auth.truelayer.com/img/banks/banks-icons/lloyds-icon.svg",
                "provider_id": "lloyds",
            },
        }
        for i, (kind, name) in enumerate((("TRANSACTION", "Club Lloyds"), ("SAVINGS", "Save")))
    ]
    return json.dumps({"results": accounts, "status": "Succeeded"}).encode()


def transactions_body(count: int, *, seed: int = 7) -> bytes:
    """``GET /data/v1/accounts/{id}/transactions`` with ``count`` transactions.

    Amounts are JSON numbers with up to two decimals (exact ``Decimal`` in the SDK,
    ``float`` in plain ``json``);
    every timestamp has its own time of day (the worst case for the SDK's timestamp
    cache); half carry a running balance and ``meta``, as providers differ.
    """
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    balance = 250_000
    items = []
    for i in range(count):
        pennies = rng.randint(-25_000, 9_000)
        balance += pennies
        moment = start + timedelta(seconds=i * 2_917 + rng.randint(0, 900))
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if i % 2 else "+00:00")
        item: dict[str, object] = {
            "transaction_id": f"{rng.getrandbits(128):032x}",
            "normalised_provider_transaction_id": f"txn-{i:08d}",
            "provider_transaction_id": f"{rng.getrandbits(64):016x}",
            "timestamp": stamp,
            "description": f"CARD PAYMENT TO SHOP {i % 997} ON {moment:%d-%m}",
            "amount": pennies / 100,  # repr is the shortest literal, e.g. -123.45
            "currency": "GBP",
            "transaction_type": "DEBIT" if pennies < 0 else "CREDIT",
            "transaction_category": _CATEGORIES[i % len(_CATEGORIES)],
            "transaction_classification": _CLASSIFICATIONS[i % len(_CLASSIFICATIONS)],
        }
        merchant = _MERCHANTS[i % len(_MERCHANTS)]
        if merchant is not None:
            item["merchant_name"] = merchant
        if i % 2 == 0:
            item["running_balance"] = {"amount": balance / 100, "currency": "GBP"}
            item["meta"] = {"provider_category": "DEB", "provider_reference": f"REF{i}"}
        items.append(item)
    return json.dumps({"results": items, "status": "Succeeded"}).encode()


def balance_body() -> bytes:
    """``GET /data/v1/accounts/{id}/balance``: one balance with an overdraft."""
    balance = {
        "currency": "GBP",
        "available": 1161.2,
        "current": 1161.2,
        "overdraft": 1000,
        "update_timestamp": "2026-01-05T10:11:12.123456Z",
    }
    return json.dumps({"results": [balance], "status": "Succeeded"}).encode()


def token_body() -> bytes:
    """``POST /connect/token``: a Data API token response (canned, never a real secret)."""
    grant = {
        "access_token": "canned-access-token",
        "expires_in": 3600,
        "token_type": "Bearer",
        "refresh_token": "canned-refresh-token",
        "scope": "info accounts balance transactions offline_access",
    }
    return json.dumps(grant).encode()
