"""Rendering bank data as Data API v1 JSON (see ``_timefmt`` for the timestamp styles)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._catalog import find_provider
from ._data import Account, BankData, Card, DirectDebit, StandingOrder, Transaction
from ._encode import RawJSON, decimal_text, encode_now, quote
from ._timefmt import (
    BST,
    date_only,
    from_epoch,
    iso_micro_z,
    iso_milli_offset,
    iso_milli_z,
    iso_naive,
    iso_offset,
    iso_seconds_z,
)

if TYPE_CHECKING:
    from ._state import Connection

__all__ = [
    "account",
    "account_balance",
    "card",
    "card_balance",
    "direct_debit",
    "info",
    "me",
    "standing_order",
    "transaction",
]

_OPEN_ENDED = "9999-12-31T00:00:00+00:00"


def _provider(provider_id: str) -> dict[str, str]:
    provider = find_provider(provider_id)
    name = provider.display_name if provider else provider_id
    logo = provider.logo_url if provider else ""
    return {"display_name": name, "logo_uri": logo, "provider_id": provider_id}


def me(connection: Connection) -> dict[str, Any]:
    return {
        "client_id": connection.client_id,
        "credentials_id": connection.credentials_id,
        "consent_status": "Authorised",
        "consent_status_updated_at": iso_milli_z(from_epoch(connection.consent_updated_at)),
        "consent_created_at": iso_milli_z(from_epoch(connection.created_at)),
        "consent_expires_at": iso_milli_z(from_epoch(connection.consent_expires_at)),
        "provider": _provider(connection.provider_id),
        "scopes": list(connection.scopes),
        "privacy_policy": "Feb2019",
    }


def info(data: BankData, now: datetime) -> dict[str, Any]:
    return {
        "full_name": data.holder_name,
        "update_timestamp": iso_seconds_z(now),
        "emails": list(data.emails),
        "phones": list(data.phones),
    }


def account(item: Account, provider_id: str, now: datetime) -> dict[str, Any]:
    provider = _provider(provider_id)
    return {
        "update_timestamp": iso_micro_z(now),
        "account_id": item.account_id,
        "account_type": item.account_type,
        "display_name": item.display_name,
        "currency": "GBP",
        "account_number": {
            "iban": item.iban,
            "number": item.number,
            "sort_code": item.sort_code,
            "swift_bic": "MOCKGB21",
        },
        "provider": provider,
    }


def account_balance(item: Account, now: datetime) -> dict[str, Any]:
    body: dict[str, Any] = {
        "currency": "GBP",
        "available": item.available,
        "current": item.current,
    }
    if item.overdraft is not None:
        body["overdraft"] = item.overdraft
    body["update_timestamp"] = iso_micro_z(now)
    return body


def transaction(txn: Transaction, *, running_balance: bool, style: str) -> RawJSON:
    """A transaction's JSON, written directly: the emulator's bulkiest body, so it skips
    the intermediate dict. ``style`` picks the timestamp spelling: ``offset``, ``naive``
    or (pending) ``milli``."""
    if txn.pending:
        stamp = iso_milli_z(txn.timestamp)
    elif style == "naive":
        stamp = iso_naive(txn.timestamp)
    else:
        stamp = iso_offset(txn.timestamp)
    parts = [
        '{"transaction_id":',
        quote(txn.transaction_id),
        ',"normalised_provider_transaction_id":',
        quote(txn.normalised_provider_transaction_id),
        ',"provider_transaction_id":',
        quote(txn.provider_transaction_id),
        ',"timestamp":',
        quote(stamp),
        ',"description":',
        quote(txn.description),
        ',"amount":',
        decimal_text(txn.amount),
        ',"currency":"GBP","transaction_type":',
        quote(txn.transaction_type),
        ',"transaction_category":',
        quote(txn.transaction_category),
        ',"transaction_classification":',
        encode_now(list(txn.transaction_classification)),
    ]
    if txn.merchant_name:
        parts += [',"merchant_name":', quote(txn.merchant_name)]
    if running_balance and txn.running_balance is not None:
        parts += [',"running_balance":{"amount":', decimal_text(txn.running_balance)]
        parts.append(',"currency":"GBP"}')
    parts += [',"meta":', encode_now(dict(txn.meta)), "}"]
    return RawJSON("".join(parts))


def standing_order(
    order: StandingOrder, provider_account_id: str, now: datetime
) -> dict[str, Any]:
    def day(value: object) -> str:
        assert hasattr(value, "isoformat")
        return f"{value.isoformat()}T00:00:00+00:00"

    body: dict[str, Any] = {
        "frequency": order.frequency,
        "status": order.status,
        "timestamp": iso_milli_offset(now),
        "currency": "GBP",
        "meta": {"provider_account_id": provider_account_id},
    }
    if order.next_payment_date is not None:
        body["next_payment_date"] = day(order.next_payment_date)
        body["next_payment_amount"] = order.amount
    body["first_payment_date"] = day(order.first_payment_date)
    body["first_payment_amount"] = order.amount
    if order.final_payment_date is not None:
        body["final_payment_date"] = day(order.final_payment_date)
        body["final_payment_amount"] = order.amount
    else:
        body["final_payment_date"] = _OPEN_ENDED
        body["final_payment_amount"] = Decimal("0")
    if order.payee:
        body["payee"] = order.payee
    body["reference"] = order.reference
    return body


def direct_debit(debit: DirectDebit, provider_account_id: str, now: datetime) -> dict[str, Any]:
    return {
        "direct_debit_id": debit.direct_debit_id,
        "timestamp": iso_milli_offset(now, BST),
        "name": debit.name,
        "status": debit.status,
        "previous_payment_timestamp": iso_milli_offset(debit.previous_payment, BST),
        "previous_payment_amount": debit.previous_amount,
        "currency": "GBP",
        "meta": {
            "provider_mandate_identification": debit.mandate,
            "provider_account_id": provider_account_id,
        },
    }


def card(item: Card, provider_id: str, now: datetime) -> dict[str, Any]:
    return {
        "account_id": item.account_id,
        "card_network": item.network,
        "card_type": item.card_type,
        "currency": "GBP",
        "display_name": item.display_name,
        "partial_card_number": item.partial_card_number,
        "name_on_card": item.name_on_card,
        "valid_from": item.valid_from,
        "valid_to": item.valid_to,
        "update_timestamp": iso_micro_z(now),
        "provider": {"provider_id": provider_id},
    }


def card_balance(item: Card, now: datetime) -> dict[str, Any]:
    return {
        "available": item.available,
        "currency": "GBP",
        "current": item.current,
        "credit_limit": item.credit_limit,
        "last_statement_balance": item.last_statement_balance,
        "last_statement_date": date_only(item.last_statement_date),
        "payment_due": item.payment_due,
        "payment_due_date": date_only(item.payment_due_date),
        "update_timestamp": iso_micro_z(now),
    }
