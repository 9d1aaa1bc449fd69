"""``GET /data/v1/accounts/{id}/standing_orders``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from .enums import StandingOrderStatus

__all__ = ["StandingOrder"]


@attrs.frozen(kw_only=True)
class StandingOrder:
    """A standing order set up on a bank account.

    The ``*_amount`` fields are typed as strings in the OpenAPI document but sent as
    numbers in its examples: both are accepted and become ``Decimal``.

    Attributes:
        frequency: schedule code, e.g. ``EvryDay``, ``IntrvlMnthDay:01:26``, ``QtrDay``.
        timestamp: when the request was made.
        status: ``StandingOrderStatus``, or an unknown value as ``str``.
        currency: ISO 4217 code.
        meta: provider extras as an open mapping (e.g. ``provider_account_id``).
        next_payment_date: next scheduled payment.
        next_payment_amount: amount of the next payment.
        first_payment_date: first payment of the schedule.
        first_payment_amount: amount of the first payment.
        final_payment_date: last payment; ``9999-12-31`` for open-ended orders.
        final_payment_amount: amount of the last payment.
        payee: payee set by the user.
        reference: reference set by the user.
        previous_payment_timestamp: legacy: the latest payment.
        previous_payment_amount: legacy: amount of the latest payment.
    """

    frequency: str
    timestamp: datetime
    status: StandingOrderStatus | str | None = None
    currency: str | None = None
    meta: dict[str, Any] | None = None
    next_payment_date: datetime | None = None
    next_payment_amount: Decimal | None = None
    first_payment_date: datetime | None = None
    first_payment_amount: Decimal | None = None
    final_payment_date: datetime | None = None
    final_payment_amount: Decimal | None = None
    payee: str | None = None
    reference: str | None = None
    previous_payment_timestamp: datetime | None = None
    previous_payment_amount: Decimal | None = None
