"""When ``tl.payments.wait_for`` may stop: a payment's final status, learning where a
payment on a mandate goes from its mandate.

``executed`` is final for a payment to an external account; a payment into a merchant
account goes on to ``settled`` (truelayer-api-v3.md §4.4). A payment on a mandate does not
say where it goes (its ``payment_method`` names only the mandate), so the first time one is
seen ``executed`` its mandate is read once: a merchant-account beneficiary means waiting
for ``settled``. A mandate that cannot be read for good (the client lacks the mandate
scope, the mandate is gone: an answer a retry would not change) leaves ``executed`` final,
so a wait never hangs on a status that may not come. A passing failure (5xx, 429, a
network error, after the request's own retries) decides nothing: ``executed`` is not
final yet and the mandate is read again on the next poll (until the wait's ``timeout``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .. import errors as e
from .._retry import status_is_retryable
from ..models import Payment, PaymentMethodMandate, is_final

__all__ = ["PaymentFinality"]

#: Reads a mandate by id (``tl.mandates.get``).
ReadMandate = Callable[[str], Awaitable[Any]]


class PaymentFinality:
    """The finality test of one wait: :meth:`learn` each fetched payment, then ask
    :meth:`is_final`."""

    def __init__(self, read_mandate: ReadMandate | None) -> None:
        self._read_mandate = read_mandate
        self._known = False  # the mandate was read, or can never be: not read again
        self._unsure = False  # the last read failed in passing: executed is not final yet
        self._settles = False  # the mandate pays into a merchant account

    async def learn(self, payment: Payment) -> None:
        """Read the mandate of an ``executed`` payment on a mandate (once it answers)."""
        method = getattr(payment, "payment_method", None)
        if (
            self._known
            or self._read_mandate is None
            or payment.status != "executed"
            or not isinstance(method, PaymentMethodMandate)
        ):
            return
        try:
            mandate = await self._read_mandate(method.mandate_id)
        except (e.ApiError, e.TransportError) as error:
            self._unsure = _passing(error)
            self._known = not self._unsure  # unreadable for good: executed stays final
            return
        self._known, self._unsure = True, False
        beneficiary = getattr(mandate, "beneficiary", None)
        self._settles = getattr(beneficiary, "type", None) == "merchant_account"

    def is_final(self, payment: Payment) -> bool:
        """Whether ``payment`` will not change status again (see the module)."""
        if payment.status == "executed" and (self._settles or self._unsure):
            return False
        return is_final(payment)


def _passing(error: e.ApiError | e.TransportError) -> bool:
    """Whether a failed mandate read may answer otherwise next time: a network failure, or
    a status the SDK retries (429, 5xx but a provider's "feature not supported"...)."""
    if isinstance(error, e.TransportError):
        return True
    code = error.status_code
    return code is not None and status_is_retryable(code, error.error)
