"""Merchant accounts v3: the account, its transactions (a tagged union on ``type``), its
sweeping settings and the payment sources of a user (reusable payout beneficiaries).

Money is ``amount_in_minor: int`` with ``currency`` (GBP, EUR or PLN); timestamps are
aware ``datetime``; an unknown transaction ``type`` decodes to
:class:`UnknownMerchantAccountTransaction` with ``raw``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeAlias

import attrs

from ._tagged import tagged_union
from .payment_common import AccountIdentifier, PaymentSource
from .payouts import PayoutBeneficiary, PayoutBeneficiaryPaymentSource

__all__ = [
    "MerchantAccount",
    "MerchantAccountTransaction",
    "SweepingSettings",
    "TransactionExternalPayment",
    "TransactionMerchantAccountPayment",
    "TransactionPayout",
    "TransactionRefund",
    "TransactionRemitter",
    "UnknownMerchantAccountTransaction",
]


@attrs.frozen(kw_only=True)
class MerchantAccount:
    """A TrueLayer merchant account: its balances in minor units and its identifiers."""

    id: str
    currency: str
    account_identifiers: tuple[AccountIdentifier, ...]
    available_balance_in_minor: int
    current_balance_in_minor: int
    account_holder_name: str


# -- transactions -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TransactionMerchantAccountPayment:
    """A payment into the merchant account (``payment_id``), settled at ``settled_at``;
    ``payment_source.id`` can be reused as a payout beneficiary."""

    type: Literal["merchant_account_payment"] = "merchant_account_payment"
    id: str
    currency: str
    amount_in_minor: int
    status: str
    settled_at: datetime
    payment_source: PaymentSource
    payment_id: str
    metadata: dict[str, str] | None = None


@attrs.frozen(kw_only=True)
class TransactionRemitter:
    """Who sent an external payment, and the reference they gave."""

    account_holder_name: str | None = None
    reference: str | None = None
    account_identifiers: tuple[AccountIdentifier, ...] = ()


@attrs.frozen(kw_only=True)
class TransactionExternalPayment:
    """Money received from outside TrueLayer (a bank transfer, or a returned payout:
    ``return_for``)."""

    type: Literal["external_payment"] = "external_payment"
    id: str
    currency: str
    amount_in_minor: int
    status: str
    settled_at: datetime
    remitter: TransactionRemitter
    return_for: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class TransactionPayout:
    """An executed payout (``id`` equals ``payout_id``); ``context_code`` is
    ``withdrawal``, ``service_payment`` or ``internal``."""

    type: Literal["payout"] = "payout"
    id: str
    currency: str
    amount_in_minor: int
    status: str
    created_at: datetime
    executed_at: datetime
    beneficiary: PayoutBeneficiary
    context_code: str
    payout_id: str
    returned_by: str | None = None
    scheme_id: str | None = None
    metadata: dict[str, str] | None = None


@attrs.frozen(kw_only=True)
class TransactionRefund:
    """A refund paid from the merchant account back to the payment's source."""

    type: Literal["refund"] = "refund"
    id: str
    currency: str
    amount_in_minor: int
    status: str
    created_at: datetime
    beneficiary: PayoutBeneficiaryPaymentSource
    context_code: str
    refund_id: str
    payment_id: str
    executed_at: datetime | None = None
    returned_by: str | None = None
    scheme_id: str | None = None
    metadata: dict[str, str] | None = None


@attrs.frozen(kw_only=True)
class UnknownMerchantAccountTransaction:
    """A transaction ``type`` this SDK version does not know (``raw`` has it all)."""

    type: str
    id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: A merchant-account transaction, told apart by ``type``.
MerchantAccountTransaction: TypeAlias = (
    TransactionMerchantAccountPayment
    | TransactionExternalPayment
    | TransactionPayout
    | TransactionRefund
    | UnknownMerchantAccountTransaction
)
tagged_union(
    MerchantAccountTransaction,
    "type",
    {
        "merchant_account_payment": TransactionMerchantAccountPayment,
        "external_payment": TransactionExternalPayment,
        "payout": TransactionPayout,
        "refund": TransactionRefund,
    },
    UnknownMerchantAccountTransaction,
)


# -- sweeping ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SweepingSettings:
    """A merchant account's sweeping: every ``frequency`` (``daily``, ``weekly``,
    ``fortnightly``) the balance above ``max_amount_in_minor`` goes to ``destination``
    (an IBAN configured with TrueLayer)."""

    max_amount_in_minor: int
    currency: str
    frequency: str
    destination: AccountIdentifier
