"""Closed vocabularies of the wire format, as ``str`` enums.

TrueLayer adds values over time, so every model field typed with one of these enums is
declared as ``SomeEnum | str``: a known value comes back as the enum member (which *is* a
``str`` and compares equal to its wire value), an unknown one as the plain string.

>>> TransactionCategory.PURCHASE == "PURCHASE"
True
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "AccountType",
    "ActionNeeded",
    "AsyncStatus",
    "ConsentStatus",
    "DirectDebitStatus",
    "StandingOrderStatus",
    "TransactionCategory",
    "TransactionType",
]


class _WireEnum(str, Enum):
    """A ``str`` enum whose ``str()`` and ``format()`` give the wire value on every Python."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)


class AccountType(_WireEnum):
    """``Account.account_type``: personal or business, current or savings."""

    TRANSACTION = "TRANSACTION"
    SAVINGS = "SAVINGS"
    BUSINESS_TRANSACTION = "BUSINESS_TRANSACTION"
    BUSINESS_SAVINGS = "BUSINESS_SAVINGS"


class TransactionType(_WireEnum):
    """``transaction_type`` of account and card transactions.

    For cards the sign of ``amount`` is not reliable across providers: use this field.
    """

    DEBIT = "DEBIT"
    CREDIT = "CREDIT"


class TransactionCategory(_WireEnum):
    """``transaction_category`` of account and card transactions (Data API v1 enum)."""

    ATM = "ATM"
    BILL_PAYMENT = "BILL_PAYMENT"
    CASH = "CASH"
    CASHBACK = "CASHBACK"
    CHEQUE = "CHEQUE"
    CORRECTION = "CORRECTION"
    CREDIT = "CREDIT"
    DIRECT_DEBIT = "DIRECT_DEBIT"
    DIVIDEND = "DIVIDEND"
    FEE_CHARGE = "FEE_CHARGE"
    INTEREST = "INTEREST"
    OTHER = "OTHER"
    PURCHASE = "PURCHASE"
    STANDING_ORDER = "STANDING_ORDER"
    TRANSFER = "TRANSFER"
    DEBIT = "DEBIT"
    UNKNOWN = "UNKNOWN"


class ConsentStatus(_WireEnum):
    """``Me.consent_status``. Only ``Authorised`` is documented; others arrive as ``str``."""

    AUTHORISED = "Authorised"


class StandingOrderStatus(_WireEnum):
    """``StandingOrder.status``."""

    ACTIVE = "Active"
    INACTIVE = "Inactive"


class DirectDebitStatus(_WireEnum):
    """``DirectDebit.status``."""

    ACTIVE = "Active"
    INACTIVE = "Inactive"


class AsyncStatus(_WireEnum):
    """``status`` of a Data API envelope, a 202 async task, or an async webhook."""

    SUCCEEDED = "Succeeded"
    QUEUED = "Queued"
    RUNNING = "Running"
    FAILED = "Failed"


class ActionNeeded(_WireEnum):
    """``action_needed`` in the ``POST /connections/extend`` response."""

    NO_ACTION_NEEDED = "no_action_needed"
    AUTHENTICATION_NEEDED = "authentication_needed"
    RECONFIRMATION_OF_CONSENT_NEEDED = "reconfirmation_of_consent_needed"
