"""Payments v3 refunds: one class per ``status`` (``pending``, ``authorized``,
``executed``, ``failed``) and :class:`UnknownRefund` for a status not known yet."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeAlias

import attrs

from ._tagged import tagged_union

__all__ = [
    "CreatedRefund",
    "Refund",
    "RefundAuthorized",
    "RefundExecuted",
    "RefundFailed",
    "RefundPending",
    "UnknownRefund",
]


@attrs.frozen(kw_only=True)
class CreatedRefund:
    """What ``POST /v3/payments/{id}/refunds`` returns: the new refund's ``id``."""

    id: str


@attrs.frozen(kw_only=True)
class _RefundCommon:
    id: str
    amount_in_minor: int
    currency: str
    reference: str
    metadata: dict[str, str] | None = None
    created_at: datetime | None = None


@attrs.frozen(kw_only=True)
class RefundPending(_RefundCommon):
    """Created; not yet sent to the payment scheme."""

    status: Literal["pending"] = "pending"


@attrs.frozen(kw_only=True)
class RefundAuthorized(_RefundCommon):
    """Sent to the payment scheme."""

    status: Literal["authorized"] = "authorized"


@attrs.frozen(kw_only=True)
class RefundExecuted(_RefundCommon):
    """Taken from the merchant account (it may still fail if the receiving bank returns it)."""

    status: Literal["executed"] = "executed"
    executed_at: datetime


@attrs.frozen(kw_only=True)
class RefundFailed(_RefundCommon):
    """The refund failed (``failure_reason`` is an open string)."""

    status: Literal["failed"] = "failed"
    failed_at: datetime
    failure_reason: str
    executed_at: datetime | None = None


@attrs.frozen(kw_only=True)
class UnknownRefund:
    """A refund whose ``status`` this SDK version does not know (``raw`` has it all)."""

    status: str
    id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: A refund, told apart by ``status``.
Refund: TypeAlias = (
    RefundPending | RefundAuthorized | RefundExecuted | RefundFailed | UnknownRefund
)
tagged_union(
    Refund,
    "status",
    {
        "pending": RefundPending,
        "authorized": RefundAuthorized,
        "executed": RefundExecuted,
        "failed": RefundFailed,
    },
    UnknownRefund,
)
