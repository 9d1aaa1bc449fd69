"""Tables and flat rows for merchant accounts, their transactions, mandates and payouts
(``merchant-accounts``, ``mandates``, ``payouts`` and the demo)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.table import Table

from ..models import (
    AccountIdentifierBban,
    AccountIdentifierIban,
    AccountIdentifierNrb,
    AccountIdentifierScan,
    Mandate,
    MandateConstraintsUsage,
    MerchantAccount,
    MerchantAccountTransaction,
    Payout,
    TransactionExternalPayment,
    TransactionMerchantAccountPayment,
    TransactionPayout,
    TransactionRefund,
    UnknownMandate,
    UnknownPayout,
)
from ._output import named, short_id, table
from ._payment_progress import minor_money

__all__ = [
    "TRANSACTION_COLUMNS",
    "identifiers",
    "mandate_table",
    "mandates_table",
    "merchant_accounts_table",
    "payout_table",
    "signed_amount",
    "transaction_rows",
    "transactions_table",
]

#: Transactions that take money out of the merchant account.
_DEBITS = (TransactionPayout, TransactionRefund)
#: The periods of a mandate's limits, shortest first.
_PERIODS = ("day", "week", "fortnight", "month", "half_year", "year")


def identifiers(found: Sequence[Any]) -> str:
    """``04-06-62 00002723`` / ``GB53 CLRB …``: the first account identifier, readable."""
    for ident in found:
        if isinstance(ident, AccountIdentifierScan):
            code = ident.sort_code
            return f"{code[0:2]}-{code[2:4]}-{code[4:6]} {ident.account_number}"
        if isinstance(ident, AccountIdentifierIban):
            return " ".join(ident.iban[i : i + 4] for i in range(0, len(ident.iban), 4))
        if isinstance(ident, AccountIdentifierNrb):
            return ident.nrb
        if isinstance(ident, AccountIdentifierBban):
            return ident.bban
    return "-"


def merchant_accounts_table(accounts: Sequence[MerchantAccount], *, title: str) -> Table:
    """Merchant accounts with their balances (ids shortened)."""
    out = table(title, caption="--format json shows ids whole")
    out.add_column("Account", no_wrap=True)
    out.add_column("Holder")
    out.add_column("Sort code / number / IBAN")
    out.add_column("Available", justify="right", no_wrap=True)
    out.add_column("Current", justify="right", no_wrap=True)
    for account in accounts:
        out.add_row(
            short_id(account.id),
            account.account_holder_name,
            identifiers(account.account_identifiers),
            minor_money(account.available_balance_in_minor, account.currency),
            minor_money(account.current_balance_in_minor, account.currency),
        )
    return out


# -- transactions ------------------------------------------------------------------------

TRANSACTION_COLUMNS = (
    "timestamp",
    "type",
    "status",
    "amount_in_minor",
    "currency",
    "counterparty",
    "id",
    "payment_id",
    "payout_id",
    "refund_id",
)


def signed_amount(transaction: MerchantAccountTransaction) -> int | None:
    """The amount in minor units, negative for money out (payouts, refunds)."""
    amount: int | None = getattr(transaction, "amount_in_minor", None)
    if amount is None:
        return None
    return -amount if isinstance(transaction, _DEBITS) else amount


def _timestamp(transaction: MerchantAccountTransaction) -> datetime | None:
    for name in ("settled_at", "executed_at", "created_at"):
        stamp: datetime | None = getattr(transaction, name, None)
        if stamp is not None:
            return stamp
    return None


def _counterparty(transaction: MerchantAccountTransaction) -> str:
    """Who paid in, or who was paid."""
    if isinstance(transaction, TransactionMerchantAccountPayment):
        return transaction.payment_source.account_holder_name or "-"
    if isinstance(transaction, TransactionExternalPayment):
        return transaction.remitter.account_holder_name or "-"
    if isinstance(transaction, (TransactionPayout, TransactionRefund)):
        return getattr(transaction.beneficiary, "account_holder_name", None) or "-"
    return "-"


def transaction_rows(
    transactions: Sequence[MerchantAccountTransaction],
) -> list[dict[str, Any]]:
    """Flat rows for CSV (amounts signed, in minor units)."""
    return [
        {
            "timestamp": _timestamp(t),
            "type": t.type,
            "status": getattr(t, "status", None),
            "amount_in_minor": signed_amount(t),
            "currency": getattr(t, "currency", None),
            "counterparty": _counterparty(t),
            "id": t.id,
            "payment_id": getattr(t, "payment_id", None),
            "payout_id": getattr(t, "payout_id", None),
            "refund_id": getattr(t, "refund_id", None),
        }
        for t in transactions
    ]


#: Short names for the table (``--format json``/``csv`` keep TrueLayer's ``type``).
_KINDS = {
    "merchant_account_payment": "payment in",
    "external_payment": "transfer in",
    "payout": "payout",
    "refund": "refund",
}


def transactions_table(transactions: Sequence[MerchantAccountTransaction], *, title: str) -> Table:
    """Merchant-account transactions in the API's order (money out is negative; the
    status under the kind, dimmed)."""
    out = table(title)
    out.add_column("When (UTC)", no_wrap=True)
    out.add_column("Kind", no_wrap=True)
    out.add_column("Amount", justify="right", no_wrap=True)
    out.add_column("Counterparty")
    out.add_column("Id", no_wrap=True)
    for t in transactions:
        stamp = _timestamp(t)
        amount = signed_amount(t)
        currency = getattr(t, "currency", None)
        out.add_row(
            "-" if stamp is None else f"{stamp:%Y-%m-%d %H:%M}",
            named(_KINDS.get(t.type, t.type), getattr(t, "status", None)),
            "-" if amount is None or currency is None else minor_money(amount, currency),
            _counterparty(t),
            short_id(t.id or "-"),
        )
    return out


# -- mandates ----------------------------------------------------------------------------


def _limit(mandate: Mandate) -> str:
    constraints = getattr(mandate, "constraints", None)
    currency = getattr(mandate, "currency", None)
    if constraints is None or currency is None:
        return "-"
    return minor_money(constraints.maximum_individual_amount, currency)


def mandates_table(mandates: Sequence[Mandate], *, title: str) -> Table:
    """Mandates: status, the per-payment limit, created, reference (the type under the
    shortened id)."""
    out = table(title, caption="--format json shows ids whole")
    out.add_column("Mandate", no_wrap=True)
    out.add_column("Status", no_wrap=True)
    out.add_column("Per payment", justify="right", no_wrap=True)
    out.add_column("Created", no_wrap=True)
    out.add_column("Reference")
    for mandate in mandates:
        created = getattr(mandate, "created_at", None)
        out.add_row(
            named(short_id(mandate.id or "-"), mandate.type),
            mandate.status,
            _limit(mandate),
            "-" if created is None else f"{created:%Y-%m-%d}",
            getattr(mandate, "reference", None) or "-",
        )
    return out


def mandate_table(mandate: Mandate, usage: MandateConstraintsUsage | None) -> Table:
    """One mandate, with how much of each period's limit is used."""
    out = table(f"Mandate {mandate.id}")
    out.add_column("Field", no_wrap=True)
    out.add_column("Value")
    out.add_row("status", _status(mandate))
    out.add_row("type", mandate.type or "-")
    if isinstance(mandate, UnknownMandate):
        return out
    out.add_row("currency", mandate.currency)
    out.add_row("created", f"{mandate.created_at:%Y-%m-%d %H:%M:%S} UTC")
    beneficiary = mandate.beneficiary
    if beneficiary is not None:
        name = getattr(beneficiary, "merchant_account_id", None) or getattr(
            beneficiary, "account_holder_name", "-"
        )
        out.add_row("beneficiary", f"{beneficiary.type}: {name}")
    out.add_row("reference", mandate.reference or "-")
    out.add_row("per payment", _limit(mandate))
    if usage is not None:
        for period in _PERIODS:
            used = getattr(usage.periodic_limits, period)
            if used is not None:
                out.add_row(
                    f"per {period.replace('_', ' ')}",
                    f"{minor_money(used.current_amount, mandate.currency)} used of "
                    f"{minor_money(used.maximum_available_amount, mandate.currency)} "
                    f"({used.start_date} to {used.end_date}, {used.period_alignment})",
                )
    return out


def _status(item: Mandate | Payout) -> str:
    status = item.status
    reason = getattr(item, "failure_reason", None) or getattr(item, "revocation_source", None)
    return f"{status} ({reason})" if reason else status


# -- payouts -----------------------------------------------------------------------------


def payout_table(payout: Payout) -> Table:
    """One payout: amount, beneficiary, status (with the failure reason)."""
    out = table(f"Payout {payout.id}")
    out.add_column("Field", no_wrap=True)
    out.add_column("Value")
    out.add_row("status", _status(payout))
    if isinstance(payout, UnknownPayout):
        return out
    out.add_row("amount", minor_money(payout.amount_in_minor, payout.currency))
    out.add_row("merchant account", payout.merchant_account_id)
    beneficiary = payout.beneficiary
    name = getattr(beneficiary, "account_holder_name", None) or "-"
    out.add_row("beneficiary", f"{beneficiary.type}: {name}")
    out.add_row("reference", getattr(beneficiary, "reference", None) or "-")
    out.add_row("created", f"{payout.created_at:%Y-%m-%d %H:%M:%S} UTC")
    executed = getattr(payout, "executed_at", None)
    if executed is not None:
        out.add_row("executed", f"{executed:%Y-%m-%d %H:%M:%S} UTC")
    return out
