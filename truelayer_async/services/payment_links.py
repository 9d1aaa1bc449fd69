"""``tl.payment_links``: shareable single-payment links and the payments made through them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .. import errors as e
from .._raw import raw_method
from ..models import (
    BankTransfer,
    CreatedPaymentLink,
    PaymentLink,
    PaymentLinkPayment,
    PaymentUser,
    to_wire,
)
from ..models._checks import check_amount, check_currency, check_metadata
from ..pagination import AsyncPaginator, Page
from . import _payments_api as api

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["PaymentLinksService", "RawPaymentLinksService"]

#: The largest page TrueLayer serves (``limit`` 1–50).
MAX_PAGE_SIZE = 50


class PaymentLinksService:
    """Payments API v3 payment links. Reached as ``tl.payment_links``.

    Errors: ``PaymentsApiError`` and its subclasses, ``ConfigurationError`` (creating a
    link is signed), ``InvalidParameterError`` (before any request), ``TransportError``,
    ``MalformedResponseError``.
    """

    def __init__(self, core: Core) -> None:
        self._core = core
        self.with_raw_response = RawPaymentLinksService(self)

    async def create(
        self,
        *,
        amount_in_minor: int,
        currency: str,
        payment_method: BankTransfer,
        user: PaymentUser | None = None,
        metadata: Mapping[str, str] | None = None,
        expires_at: datetime | None = None,
        reference: str | None = None,
        return_uri: str | None = None,
        product_items: Sequence[Mapping[str, Any]] | None = None,
        idempotency_key: str | None = None,
    ) -> CreatedPaymentLink:
        """Create a single-payment link (``POST /v3/payment-links``, signed, idempotent).

        The payment is described as for ``tl.payments.create`` (a ``BankTransfer``; same
        amount, currency and metadata rules). ``expires_at`` must be timezone-aware
        (TrueLayer's default: 24 hours). Returns the link's ``id`` and ``uri``.
        """
        check_amount("amount_in_minor", amount_in_minor)
        check_currency("currency", currency)
        check_metadata("metadata", metadata)
        if not isinstance(payment_method, BankTransfer):
            raise e.InvalidParameterError("payment_method must be a BankTransfer")
        if expires_at is not None and (
            not isinstance(expires_at, datetime) or expires_at.utcoffset() is None
        ):
            raise e.InvalidParameterError("expires_at must be a timezone-aware datetime")
        configuration: dict[str, Any] = {
            "amount_in_minor": amount_in_minor,
            "currency": currency,
            "payment_method": to_wire(payment_method, keep_secrets=True),
            "user": to_wire(user) if user is not None else {},
        }
        if metadata is not None:
            configuration["metadata"] = dict(metadata)
        body: dict[str, Any] = {"type": "single_payment", "payment_configuration": configuration}
        optional = {
            "expires_at": None if expires_at is None else expires_at.isoformat(),
            "reference": reference,
            "return_uri": return_uri,
            "product_items": None if product_items is None else [dict(i) for i in product_items],
        }
        body.update({name: value for name, value in optional.items() if value is not None})
        return await api.send(
            self._core, api.CREATE_LINK, body=body, idempotency_key=idempotency_key
        )

    async def get(self, link_id: str) -> PaymentLink:
        """The link (``GET /v3/payment-links/{id}``): ``status`` and ``disabled_reason``."""
        return await api.send(self._core, api.GET_LINK, {"link_id": link_id})

    def payments(
        self, link_id: str, *, limit: int | None = None, page_size: int | None = None
    ) -> AsyncPaginator[PaymentLinkPayment]:
        """The payments made through the link, as ``async for`` over cursor pages
        (``GET /v3/payment-links/{id}/payments``). ``limit`` caps the total;
        ``page_size`` (1–50) is TrueLayer's ``limit`` per page.

        Nothing is sent until iteration starts.
        """
        if page_size is not None and (
            isinstance(page_size, bool)
            or not isinstance(page_size, int)
            or not 1 <= page_size <= MAX_PAGE_SIZE
        ):
            raise e.InvalidParameterError(f"page_size must be an int from 1 to {MAX_PAGE_SIZE}")

        async def fetch(cursor: str | None) -> Page[PaymentLinkPayment]:
            params = {}
            if cursor is not None:
                params["cursor"] = cursor
            if page_size is not None:
                params["limit"] = str(page_size)
            found = await api.send(
                self._core, api.LINK_PAYMENTS, {"link_id": link_id}, params=params or None
            )
            next_cursor = None if found.pagination is None else found.pagination.next_cursor
            return Page(found.items, next_cursor)

        return AsyncPaginator(fetch, limit=limit)


class RawPaymentLinksService:
    """``tl.payment_links.with_raw_response``: ``create`` and ``get`` returning a
    :class:`~truelayer_async.RawResponse`."""

    def __init__(self, links: PaymentLinksService) -> None:
        self.create = raw_method(links.create)
        self.get = raw_method(links.get)
