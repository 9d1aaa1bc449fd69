"""When ``tl.payments.wait_for`` may stop: a payment's final status, learning where a
payment on a mandate goes from its mandate.

``executed`` is final for a payment to an external account; a payment into a merchant
account goes on to ``settled`` (truelayer-api-v3.md §4.4). A payment on a mandate does not
say where it goes (its ``payment_method`` names only the mandate), so the first time one is
seen ``executed`` its mandate is read once: a merchant-account beneficiary means waiting
for ``settled``. A mandate that cannot be read (the client lacks the mandate scope, say)
leaves ``executed`` final, so a wait never hangs on a status that may not come.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .. import errors as e
from ..models import Payment, PaymentMethodMandate, is_final

__all__ = ["PaymentFinality"]

#: Reads a mandate by id (``tl.mandates.get``).
ReadMandate = Callable[[str], Awaitable[Any]]


class PaymentFinality:
    """The finality test of one wait: :meth:`learn` each fetched payment, then ask
    :meth:`is_final`."""

    def __init__(self, read_mandate: ReadMandate | None) -> None:
        self._read_mandate = read_mandate
        self._asked = False  # the mandate is read at most once per wait
        self._settles = False  # the mandate pays into a merchant account

    async def learn(self, payment: Payment) -> None:
        """Read the mandate of an ``executed`` payment on a mandate (once)."""
        method = getattr(payment, "payment_method", None)
        if (
            self._asked
            or self._read_mandate is None
            or payment.status != "executed"
            or not isinstance(method, PaymentMethodMandate)
        ):
            return
        self._asked = True
        try:
            mandate = await self._read_mandate(method.mandate_id)
        except e.ApiError:
            return  # unreadable (no mandate scope, gone): executed stays final
        beneficiary = getattr(mandate, "beneficiary", None)
        self._settles = getattr(beneficiary, "type", None) == "merchant_account"

    def is_final(self, payment: Payment) -> bool:
        """Whether ``payment`` will not change status again (see the module)."""
        if payment.status == "executed" and self._settles:
            return False
        return is_final(payment)
