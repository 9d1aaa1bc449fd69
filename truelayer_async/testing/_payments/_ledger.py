"""Merchant accounts in the emulator: seeded accounts (one per currency), their balances
and transactions, payment sources and sweeping (truelayer-api-v3.md §4.10).

Balances move with the rest of Payments: a payment that settles into an account credits
it (``merchant_account_payment``, and a reusable payment source for its user); an
executed refund or payout debits it (``refund`` / ``payout``); a sweep withdraws what is
above the threshold (a ``payout``, ``context_code`` ``internal``, reference ``Sweep``).
Pending payouts are held: they lower ``available_balance_in_minor`` until they execute or
fail.
Transactions are kept in the order they happened (ties: in the order recorded).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import attrs

from ._records import iso

__all__ = ["ACCOUNT_IDS", "Ledger", "MerchantAccount", "Transaction"]

#: The seeded accounts' ids by currency (GBP's is the one the payments tests pay into).
ACCOUNT_IDS = {
    "GBP": "c54104a5-fc9c-4e1e-a8b0-dda2a6b85ed2",
    "EUR": "5b7adbbc-9e3c-4f1a-9d9b-2a4f1f0e8e11",
    "PLN": "8f2d7c0e-1b9a-4f55-8c33-6a1e0d5b7c22",
}
#: Opening balance of every seeded account (minor units).
OPENING_BALANCE = 10_000_000
_IDENTIFIERS: dict[str, list[dict[str, str]]] = {
    "GBP": [
        {"type": "sort_code_account_number", "sort_code": "040662", "account_number": "00002723"},
        {"type": "iban", "iban": "GB53CLRB04066200002723"},
    ],
    "EUR": [{"type": "iban", "iban": "NL33CLRB0123456789"}],
    "PLN": [
        {"type": "nrb", "nrb": "61109010140000071219812874"},
        {"type": "iban", "iban": "PL61109010140000071219812874"},
    ],
}
#: Where sweeps go (the IBAN registered with TrueLayer).
SWEEP_DESTINATION = {"type": "iban", "iban": "GB33BUKB20201555555555"}
#: A merchant's own business account (``business_account`` payouts).
BUSINESS_ACCOUNT: dict[str, Any] = {
    "account_holder_name": "Acme Ltd",
    "account_identifiers": [
        {"type": "sort_code_account_number", "sort_code": "202015", "account_number": "55555555"},
        {"type": "iban", "iban": "GB33BUKB20201555555555"},
    ],
}
_PERIOD = {"daily": 86_400.0, "weekly": 7 * 86_400.0, "fortnightly": 14 * 86_400.0}
#: ``type`` filter of the transactions endpoint → the transaction types it keeps.
TYPE_FILTER = {
    "payment": frozenset({"merchant_account_payment", "external_payment"}),
    "payout": frozenset({"payout", "refund"}),
}


@attrs.define
class Transaction:
    """One movement on a merchant account; ``body`` is its wire form minus ``id``,
    ``currency`` and ``amount_in_minor``."""

    id: str
    at: float
    type: str
    amount_in_minor: int
    currency: str
    body: dict[str, Any]

    def render(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "id": self.id,
            "currency": self.currency,
            "amount_in_minor": self.amount_in_minor,
            **self.body,
        }


@attrs.define
class Sweeping:
    """An account's sweeping settings and when the next sweep runs."""

    max_amount_in_minor: int
    frequency: str
    next_at: float

    def render(self, currency: str) -> dict[str, Any]:
        return {
            "max_amount_in_minor": self.max_amount_in_minor,
            "currency": currency,
            "frequency": self.frequency,
            "destination": dict(SWEEP_DESTINATION),
        }


@attrs.define
class MerchantAccount:
    """One merchant account: balance, holds, transactions, payment sources, sweeping."""

    id: str
    currency: str
    balance: int = OPENING_BALANCE
    held: int = 0
    transactions: list[Transaction] = attrs.field(factory=list)
    #: user id → that user's settled payment sources (by id).
    sources: dict[str, dict[str, dict[str, Any]]] = attrs.field(factory=dict)
    sweeping: Sweeping | None = None

    @property
    def available(self) -> int:
        return self.balance - self.held

    def render(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "currency": self.currency,
            "account_identifiers": [dict(i) for i in _IDENTIFIERS[self.currency]],
            "available_balance_in_minor": self.available,
            "current_balance_in_minor": self.balance,
            "account_holder_name": "Acme Ltd",
        }

    def between(self, start: float, end: float, type_: str | None) -> list[Transaction]:
        """Transactions at ``start`` ≤ time < ``end`` (of the ``type_`` filter)."""
        kinds = TYPE_FILTER.get(type_ or "")
        return [
            t
            for t in self.transactions
            if start <= t.at < end and (kinds is None or t.type in kinds)
        ]


class Ledger:
    """Every merchant account of one emulator state (guarded by ``state.lock``)."""

    def __init__(self) -> None:
        self.accounts = {
            account_id: MerchantAccount(account_id, currency)
            for currency, account_id in ACCOUNT_IDS.items()
        }

    def find(self, account_id: str) -> MerchantAccount | None:
        return self.accounts.get(account_id)

    def record(
        self, account: MerchantAccount, kind: str, amount: int, at: float, body: dict[str, Any]
    ) -> Transaction:
        """Add a transaction; credits (``*_payment``) add to the balance, the rest debit."""
        transaction = Transaction(str(uuid.uuid4()), at, kind, amount, account.currency, body)
        credit = kind.endswith("payment")
        account.balance += amount if credit else -amount
        account.transactions.append(transaction)
        account.transactions.sort(key=lambda t: t.at)
        return transaction

    # -- what the rest of the emulator reports ---------------------------------------------

    def payment_settled(
        self,
        account_id: str,
        *,
        payment_id: str,
        amount: int,
        currency: str,
        at: float,
        source: dict[str, Any],
        user_id: str,
        metadata: dict[str, str] | None,
    ) -> None:
        """A payment settled into ``account_id`` (ignored for an unknown account or
        another currency): credit it and keep the payer's account as a payment source."""
        account = self.find(account_id)
        if account is None or account.currency != currency:
            return
        body: dict[str, Any] = {
            "status": "settled",
            "settled_at": iso(at),
            "payment_source": source,
            "payment_id": payment_id,
        }
        if metadata:
            body["metadata"] = metadata
        self.record(account, "merchant_account_payment", amount, at, body)
        account.sources.setdefault(user_id, {})[source["id"]] = source

    def refund_executed(
        self,
        account_id: str,
        *,
        refund_id: str,
        payment_id: str,
        amount: int,
        currency: str,
        at: float,
        created_at: float,
        beneficiary: dict[str, Any],
    ) -> None:
        """An executed refund of a payment into ``account_id``: debit it."""
        account = self.find(account_id)
        if account is None or account.currency != currency:
            return
        body = {
            "status": "executed",
            "created_at": iso(created_at),
            "executed_at": iso(at),
            "beneficiary": beneficiary,
            "context_code": "internal",
            "refund_id": refund_id,
            "payment_id": payment_id,
        }
        self.record(account, "refund", amount, at, body)

    def find_source(self, user_id: str, source_id: str) -> dict[str, Any] | None:
        """A payment source of ``user_id`` in any account."""
        for account in self.accounts.values():
            found = account.sources.get(user_id, {}).get(source_id)
            if found is not None:
                return found
        return None

    # -- drivers ---------------------------------------------------------------------------

    def external_payment(
        self,
        account: MerchantAccount,
        amount: int,
        at: float,
        *,
        reference: str = "Top up",
        return_for: str | None = None,
    ) -> Transaction:
        """A credit from outside TrueLayer (a bank transfer into the account)."""
        body: dict[str, Any] = {
            "status": "settled",
            "settled_at": iso(at),
            "remitter": {
                "account_holder_name": "John Doe",
                "reference": reference,
                "account_identifiers": [
                    {
                        "type": "sort_code_account_number",
                        "sort_code": "040668",
                        "account_number": "00000871",
                    }
                ],
            },
        }
        if return_for is not None:
            body["return_for"] = {"type": "identified", "returned_id": return_for}
        return self.record(account, "external_payment", amount, at, body)

    def seed(self, account: MerchantAccount, count: int, start: float, step: float) -> None:
        """``count`` ``external_payment`` credits of 1.00, ``step`` seconds apart."""
        for i in range(count):
            self.external_payment(account, 100, start + i * step, reference=f"Seed {i + 1}")

    # -- sweeping --------------------------------------------------------------------------

    def set_sweeping(
        self, account: MerchantAccount, max_amount: int, frequency: str, now: float
    ) -> None:
        account.sweeping = Sweeping(max_amount, frequency, now + _PERIOD[frequency])

    def sweep(self, account: MerchantAccount, at: float) -> Transaction | None:
        """Withdraw what is above the threshold now (nothing when at or below it)."""
        if account.sweeping is None:
            return None
        excess = account.available - account.sweeping.max_amount_in_minor
        if excess <= 0:
            return None
        sweep_id = str(uuid.uuid4())
        body = {
            "status": "executed",
            "created_at": iso(at),
            "executed_at": iso(at),
            "beneficiary": {
                "type": "business_account",
                "reference": "Sweep",
                **BUSINESS_ACCOUNT,
            },
            "context_code": "internal",
            "payout_id": sweep_id,
        }
        return self.record(account, "payout", excess, at, body)

    def tick(self, now: float) -> None:
        """Run every sweep that is due (each period once, at its own time)."""
        for account in self.accounts.values():
            sweeping = account.sweeping
            while sweeping is not None and now >= sweeping.next_at:
                self.sweep(account, sweeping.next_at)
                sweeping.next_at += _PERIOD[sweeping.frequency]

    def all(self) -> Iterable[MerchantAccount]:
        return self.accounts.values()
