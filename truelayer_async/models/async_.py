"""Data API async mode (``?async=true``), its webhook, and the legacy batch endpoint."""

from __future__ import annotations

from datetime import datetime

import attrs

from .accounts import AccountBalance
from .cards import CardBalance, CardTransaction
from .common import WIRE_NAME
from .enums import AsyncStatus
from .transactions import Transaction

__all__ = [
    "AsyncTask",
    "AsyncWebhook",
    "BatchAccountResult",
    "BatchCardResult",
    "BatchRequestWindow",
    "BatchResults",
    "BatchResultsContent",
]


@attrs.frozen(kw_only=True)
class AsyncTask:
    """The ``202 Accepted`` answer to an async Data API request.

    Attributes:
        results_uri: poll this URL (same bearer token) for the results.
        task_id: the task's id (the last segment of ``results_uri``).
        status: usually ``AsyncStatus.QUEUED``.
    """

    results_uri: str
    task_id: str
    status: AsyncStatus | str | None = None


@attrs.frozen(kw_only=True)
class AsyncWebhook:
    """The JSON TrueLayer POSTs to ``webhook_uri`` when an async task ends.

    The results themselves are not included: fetch ``results_uri``.
    """

    task_id: str
    status: AsyncStatus | str
    results_uri: str | None = None
    request_timestamp: datetime | None = None
    request_uri: str | None = None
    credentials_id: str | None = None


@attrs.frozen(kw_only=True)
class BatchRequestWindow:
    """The date window a batch was run for (``from`` on the wire is ``from_`` here)."""

    from_: datetime | None = attrs.field(default=None, metadata={WIRE_NAME: "from"})
    to: datetime | None = None


@attrs.frozen(kw_only=True)
class BatchAccountResult:
    """Batch output for one bank account."""

    account_id: str
    transactions: tuple[Transaction, ...] = ()
    pending_transactions: tuple[Transaction, ...] = ()
    balance: AccountBalance | None = None


@attrs.frozen(kw_only=True)
class BatchCardResult:
    """Batch output for one card."""

    account_id: str
    transactions: tuple[CardTransaction, ...] = ()
    pending_transactions: tuple[CardTransaction, ...] = ()
    balance: CardBalance | None = None


@attrs.frozen(kw_only=True)
class BatchResultsContent:
    """The ``results`` object of a batch: per-account and per-card output."""

    accounts: tuple[BatchAccountResult, ...] = ()
    cards: tuple[BatchCardResult, ...] = ()


@attrs.frozen(kw_only=True)
class BatchResults:
    """``GET /data/v1/batch/results`` (legacy; not enveloped)."""

    status: AsyncStatus | str
    task_id: str
    request: BatchRequestWindow
    results: BatchResultsContent
