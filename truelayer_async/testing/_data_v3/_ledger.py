"""What a Data v3 connection's accounts hold: the v1 persona data (``_data.generate``)
rendered the v3 way, plus optional synthetic bulk transactions (thousands, for paging
tests), in TrueLayer's stable order (booking ``timestamp``, then ``transaction_id``,
both descending)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from .._data import Account, BankData, Transaction
from .._timefmt import iso_seconds_z

__all__ = ["account_body", "transactions"]

_BULK_MERCHANTS = ("Tesco", "Pret A Manger", "TfL", "Amazon", "Deliveroo", "Boots")


def account_body(account: Account, holder: str) -> dict[str, Any]:
    """A connected account (truelayer-api-v3.md §6.3)."""
    return {
        "id": account.account_id,
        "account_type": "savings" if account.account_type == "SAVINGS" else "current",
        "customer_segment": "retail",
        "currency": "GBP",
        "account_identifiers": [
            {
                "type": "sort_code_account_number",
                "sort_code": account.sort_code.replace("-", ""),
                "account_number": account.number,
            },
            {"type": "iban", "iban": account.iban},
        ],
        "bic": "MOCKGB21",
        "account_holder_names": [holder],
    }


def _item(txn: Transaction) -> dict[str, Any]:
    body: dict[str, Any] = {
        "transaction_id": txn.transaction_id,
        "timestamp": iso_seconds_z(txn.timestamp),
        "description": txn.description,
        "currency": "GBP",
        # [E] signed minor units: negative for money out (TrueLayer does not say).
        "amount_in_minor": int(txn.amount * 100),
        "category": txn.transaction_category,
    }
    if txn.merchant_name:
        body["merchant_name"] = txn.merchant_name
    return body


def _bulk(account_id: str, count: int, newest: datetime) -> Iterator[dict[str, Any]]:
    # Synthetic card purchases, one every 37 minutes going back from ``newest``.
    for index in range(count):
        digest = hashlib.sha256(f"{account_id}|bulk|{index}".encode()).hexdigest()
        merchant = _BULK_MERCHANTS[index % len(_BULK_MERCHANTS)]
        yield {
            "transaction_id": f"bulk-{digest[:24]}",
            "timestamp": iso_seconds_z(newest - timedelta(minutes=37 * index)),
            "description": f"CARD PAYMENT {merchant.upper()} {index:05d}",
            "currency": "GBP",
            "amount_in_minor": -(100 + int(digest[24:30], 16) % 9900),
            "category": "PURCHASE",
            "merchant_name": merchant,
        }


def transactions(
    data: BankData, account_id: str, first: date, last: date, *, bulk: int, now: datetime
) -> list[dict[str, Any]] | None:
    """The account's booked transactions between ``first`` and ``last`` (inclusive), in
    page order; ``None`` for an unknown account."""
    account = next((a for a in data.accounts if a.account_id == account_id), None)
    if account is None:
        return None
    items = [_item(t) for t in account.transactions]
    if bulk and account is data.accounts[0]:
        items.extend(_bulk(account_id, bulk, now - timedelta(hours=1)))
    kept = [i for i in items if first.isoformat() <= i["timestamp"][:10] <= last.isoformat()]
    kept.sort(key=lambda i: (i["timestamp"], i["transaction_id"]), reverse=True)
    return kept
