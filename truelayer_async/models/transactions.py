"""``GET /data/v1/accounts/{id}/transactions[/pending]``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from .enums import TransactionCategory, TransactionType

__all__ = ["RunningBalance", "Transaction"]


@attrs.frozen(kw_only=True)
class RunningBalance:
    """The account balance after a transaction (needs the ``balance`` scope and support
    from the provider)."""

    amount: Decimal
    currency: str | None = None


@attrs.frozen(kw_only=True)
class _BaseTransaction:
    """Fields shared by account and card transactions."""

    transaction_id: str
    timestamp: datetime
    description: str
    amount: Decimal
    currency: str
    transaction_category: TransactionCategory | str
    transaction_classification: tuple[str, ...] = ()
    normalised_provider_transaction_id: str | None = None
    provider_transaction_id: str | None = None
    merchant_name: str | None = None
    running_balance: RunningBalance | None = None
    meta: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class Transaction(_BaseTransaction):
    """A booked or pending transaction on a bank account.

    Attributes:
        transaction_id: TrueLayer's id in this response; it may change between requests.
        timestamp: when the transaction was posted (timezone-aware; naive wire values
            are UTC).
        description: the provider's raw description.
        amount: signed ``Decimal`` equal to the JSON literal; debits are negative.
        currency: ISO 4217 code.
        transaction_type: ``TransactionType.DEBIT`` / ``CREDIT``, or an unknown ``str``.
        transaction_category: a ``TransactionCategory``, or an unknown value as ``str``.
        transaction_classification: 0-2 labels, e.g. ``("Shopping", "Groceries")``. The
            OpenAPI document marks it required, but pending transactions (and the
            spec's own batch example) omit it, so a missing value reads as ``()``.
        normalised_provider_transaction_id: stable across requests; use it to dedupe.
        provider_transaction_id: the provider's own id (format varies).
        merchant_name: merchant identified from the description.
        running_balance: balance after this transaction, when the provider reports it.
        meta: provider extras as an open mapping (keys such as
            ``provider_transaction_category``, ``provider_reference``,
            ``counter_party_iban``...), or ``None`` when absent.
    """

    transaction_type: TransactionType | str
