"""``GET /data/v1/accounts/{id}/direct_debits``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from .enums import DirectDebitStatus

__all__ = ["DirectDebit"]


@attrs.frozen(kw_only=True)
class DirectDebit:
    """A direct-debit mandate on a bank account.

    Attributes:
        direct_debit_id: id in this response; it may change between requests.
        timestamp: when the request was made.
        name: the merchant collecting the funds (e.g. a utility).
        meta: provider extras as an open mapping. The OpenAPI document requires
            ``provider_mandate_identification`` and ``provider_account_id`` in it and
            allows ``provider_direct_debit_id``; the mapping itself is required.
        status: ``DirectDebitStatus``, or an unknown value as ``str``.
        previous_payment_timestamp: the latest payment.
        previous_payment_amount: amount of the latest payment.
        currency: ISO 4217 code.
    """

    direct_debit_id: str
    timestamp: datetime
    name: str
    meta: dict[str, Any]
    status: DirectDebitStatus | str | None = None
    previous_payment_timestamp: datetime | None = None
    previous_payment_amount: Decimal | None = None
    currency: str | None = None
