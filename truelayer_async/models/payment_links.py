"""Payments v3 payment links: the link, the create response, and the link's payments."""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = ["CreatedPaymentLink", "PaymentLink", "PaymentLinkPayment"]


@attrs.frozen(kw_only=True)
class CreatedPaymentLink:
    """What ``POST /v3/payment-links`` returns: the link's ``id`` and the ``uri`` to share."""

    id: str
    uri: str


@attrs.frozen(kw_only=True)
class PaymentLink:
    """A payment link. ``status`` is ``enabled``, ``disabling`` or ``disabled`` (then
    ``disabled_reason``, e.g. ``expired``, ``fulfilled``, ``cancelled``); both are kept as
    strings, so a new value never breaks decoding."""

    id: str
    type: str
    status: str
    disabled_reason: str | None = None


@attrs.frozen(kw_only=True)
class PaymentLinkPayment:
    """A payment made through a link: ``status`` ``pending``, ``succeeded`` or ``failed``
    (kept as a string); fetch the payment itself with ``tl.payments.get(id)``."""

    id: str
    status: str
    created_at: datetime
