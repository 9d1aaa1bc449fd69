"""Typed, immutable models of every object TrueLayer sends back.

All models are frozen ``attrs`` classes built by the SDK's one converter
(``truelayer_async._converter``). Conventions:

* money is ``decimal.Decimal``, equal to the JSON literal (``-12.40`` stays ``-12.40``);
* timestamps are timezone-aware ``datetime`` (naive wire values are UTC); calendar dates
  are ``date``; a card's ``valid_from``/``valid_to`` (``YYYY-MM``) stay strings;
* enum-typed fields are ``SomeEnum | str``: unknown values are kept as plain strings;
* JSON arrays become tuples; optional fields default to ``None``; unknown JSON keys are
  ignored; ``meta`` objects are open ``dict[str, Any]`` mappings.
"""

from __future__ import annotations

from .accounts import Account, AccountBalance, AccountNumber
from .async_ import (
    AsyncTask,
    AsyncWebhook,
    BatchAccountResult,
    BatchCardResult,
    BatchRequestWindow,
    BatchResults,
    BatchResultsContent,
)
from .cards import Card, CardBalance, CardTransaction
from .common import Envelope, ProviderInfo
from .connections import ExtendResult
from .direct_debits import DirectDebit
from .enums import (
    AccountType,
    ActionNeeded,
    AsyncStatus,
    ConsentStatus,
    DirectDebitStatus,
    StandingOrderStatus,
    TransactionCategory,
    TransactionType,
)
from .identity import Info, InfoAddress, Me
from .providers import (
    Provider,
    ProviderAvailability,
    ProviderStep,
    ProviderStepField,
    ProviderStepValue,
)
from .standing_orders import StandingOrder
from .transactions import RunningBalance, Transaction
from .verification import AccountHolder, VerificationReport, VerificationResult

__all__ = [
    "Account",
    "AccountBalance",
    "AccountHolder",
    "AccountNumber",
    "AccountType",
    "ActionNeeded",
    "AsyncStatus",
    "AsyncTask",
    "AsyncWebhook",
    "BatchAccountResult",
    "BatchCardResult",
    "BatchRequestWindow",
    "BatchResults",
    "BatchResultsContent",
    "Card",
    "CardBalance",
    "CardTransaction",
    "ConsentStatus",
    "DirectDebit",
    "DirectDebitStatus",
    "Envelope",
    "ExtendResult",
    "Info",
    "InfoAddress",
    "Me",
    "Provider",
    "ProviderAvailability",
    "ProviderInfo",
    "ProviderStep",
    "ProviderStepField",
    "ProviderStepValue",
    "RunningBalance",
    "StandingOrder",
    "StandingOrderStatus",
    "Transaction",
    "TransactionCategory",
    "TransactionType",
    "VerificationReport",
    "VerificationResult",
]
