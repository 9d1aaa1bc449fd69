"""``tl.merchant_accounts``: your TrueLayer merchant accounts, their transactions (cursor
pages), sweeping and the payment sources of a user.

Every call uses the Payments slot's client-credentials token (scope ``payments``). The
sweeping ``setup_sweeping`` and ``disable_sweeping`` are signed (``Tl-Signature``).
"""

from __future__ import annotations

import builtins
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .. import errors as e
from .._path_segment import path_segment
from .._raw import raw_method
from ..models import MerchantAccount, MerchantAccountTransaction, PaymentSource, SweepingSettings
from ..models._checks import check_amount, check_currency
from ..pagination import AsyncPaginator
from . import _payments_api as api
from ._args import text_arg, timestamp_arg
from ._cursor_page import CursorPage, paginate
from ._payments_api import Items
from .payouts import PAYOUT_CURRENCIES

if TYPE_CHECKING:
    from .._core import Core

__all__ = [
    "SWEEPING_FREQUENCIES",
    "TRANSACTION_TYPES",
    "MerchantAccountsService",
    "RawMerchantAccountsService",
]

#: How often the balance above the threshold is swept.
SWEEPING_FREQUENCIES = ("daily", "weekly", "fortnightly")
#: The ``type`` filter of :meth:`MerchantAccountsService.transactions`.
TRANSACTION_TYPES = ("payment", "payout")


_ACCOUNT = "/merchant-accounts/{merchant_account_id}"
_SWEEPING = f"{_ACCOUNT}/sweeping"
LIST_ACCOUNTS: api.Call[Items[MerchantAccount]] = api.Call(
    "GET", "/merchant-accounts", Items[MerchantAccount]
)
GET_ACCOUNT: api.Call[MerchantAccount] = api.Call("GET", _ACCOUNT, MerchantAccount)
TRANSACTIONS: api.Call[CursorPage[MerchantAccountTransaction]] = api.Call(
    "GET", f"{_ACCOUNT}/transactions", CursorPage[MerchantAccountTransaction]
)
PAYMENT_SOURCES: api.Call[Items[PaymentSource]] = api.Call(
    "GET", f"{_ACCOUNT}/payment-sources", Items[PaymentSource]
)
# Sweeping writes are signed; TrueLayer declares no Idempotency-Key for them, but the
# signature covers one, so a key is sent (as TrueLayer's Java SDK does).
SETUP_SWEEPING: api.Call[None] = api.Call("POST", _SWEEPING, None, "always", True)
DISABLE_SWEEPING: api.Call[None] = api.Call("DELETE", _SWEEPING, None, "always", True)
GET_SWEEPING: api.Call[SweepingSettings] = api.Call("GET", _SWEEPING, SweepingSettings)

#: Asks clients created before December 2023 for cursor pages (newer ones always get them).
_PAGINATION_HEADER = {"tl-enable-pagination": "true"}


class MerchantAccountsService:
    """Merchant accounts (Payments API v3). Reached as ``tl.merchant_accounts``.

    Errors (all methods): ``PaymentsApiError`` for TrueLayer's problem+json answers
    (404 for an unknown account), ``ConfigurationError`` before any request when a
    sweeping write needs a signature and the Session has no signing key,
    ``InvalidParameterError`` for bad arguments (before any request), ``TransportError``,
    ``MalformedResponseError``.
    """

    def __init__(self, core: Core) -> None:
        self._core = core
        self.with_raw_response = RawMerchantAccountsService(self)

    async def list(self) -> builtins.list[MerchantAccount]:
        """Every merchant account of your client (``GET /v3/merchant-accounts``); there
        may be more than one per currency."""
        return list((await api.send(self._core, LIST_ACCOUNTS)).items)

    async def get(self, merchant_account_id: str) -> MerchantAccount:
        """One merchant account, with its balances (``GET /v3/merchant-accounts/{id}``)."""
        return await api.send(
            self._core, GET_ACCOUNT, {"merchant_account_id": merchant_account_id}
        )

    def transactions(
        self,
        merchant_account_id: str,
        *,
        from_: date | datetime,
        to: date | datetime,
        type: str | None = None,
    ) -> AsyncPaginator[MerchantAccountTransaction]:
        """The account's transactions settled or executed from ``from_`` (inclusive) to
        ``to`` (exclusive), a page at a time
        (``GET /v3/merchant-accounts/{id}/transactions``, cursor pages)::

            async for transaction in tl.merchant_accounts.transactions(
                account_id, from_=start, to=end
            ):
                ...

        ``from_``/``to``: timezone-aware datetimes, or dates (midnight UTC). ``type``:
        ``"payment"`` or ``"payout"`` (``None``: both). Arguments are checked here, before
        anything is sent; each page is fetched as you iterate (``.pages()`` for whole
        pages). A cursor TrueLayer refuses (expired) raises its 400 ``PaymentsApiError``
        from the ``async for``.
        """
        ids = {"merchant_account_id": merchant_account_id}
        path_segment(merchant_account_id, "merchant_account_id")  # checked now, not later
        start, end = timestamp_arg(from_, "from_"), timestamp_arg(to, "to")
        if start >= end:
            raise e.InvalidParameterError("from_ must be before to")
        params = {"from": start.isoformat(), "to": end.isoformat()}
        if type is not None:
            if type not in TRANSACTION_TYPES:
                raise e.InvalidParameterError(
                    f"type must be one of {', '.join(TRANSACTION_TYPES)} or None"
                )
            params["type"] = type
        return paginate(self._core, TRANSACTIONS, ids, params=params, headers=_PAGINATION_HEADER)

    async def payment_sources(
        self, merchant_account_id: str, *, user_id: str
    ) -> builtins.list[PaymentSource]:
        """The accounts ``user_id`` has paid this merchant account from
        (``GET /v3/merchant-accounts/{id}/payment-sources``): each ``id`` can be a
        :class:`~truelayer_async.models.PaymentSourceBeneficiary` of a payout."""
        text_arg("user_id", user_id)
        body = await api.send(
            self._core,
            PAYMENT_SOURCES,
            {"merchant_account_id": merchant_account_id},
            params={"user_id": user_id},
        )
        return list(body.items)

    async def setup_sweeping(
        self,
        merchant_account_id: str,
        *,
        max_amount_in_minor: int,
        currency: str,
        frequency: str,
    ) -> None:
        """Set up or change sweeping (``POST /v3/merchant-accounts/{id}/sweeping``,
        signed): every ``frequency`` (``daily``, ``weekly``, ``fortnightly``) the balance
        above ``max_amount_in_minor`` (≥ 0) goes to the IBAN configured with TrueLayer.
        ``currency`` is the account's (``GBP``, ``EUR``, ``PLN``)."""
        check_amount("max_amount_in_minor", max_amount_in_minor, low=0)
        check_currency("currency", currency, PAYOUT_CURRENCIES)
        if frequency not in SWEEPING_FREQUENCIES:
            raise e.InvalidParameterError(
                f"frequency must be one of {', '.join(SWEEPING_FREQUENCIES)}"
            )
        body: dict[str, Any] = {
            "max_amount_in_minor": max_amount_in_minor,
            "currency": currency,
            "frequency": frequency,
        }
        await api.send(
            self._core, SETUP_SWEEPING, {"merchant_account_id": merchant_account_id}, body=body
        )

    async def get_sweeping(self, merchant_account_id: str) -> SweepingSettings | None:
        """The account's sweeping settings
        (``GET /v3/merchant-accounts/{id}/sweeping``), or ``None`` when sweeping is not
        set up (TrueLayer answers 404).

        TrueLayer's 404 does not tell "no sweeping" from "no such account": use
        :meth:`get` when the account itself is in doubt.
        """
        try:
            return await api.send(
                self._core, GET_SWEEPING, {"merchant_account_id": merchant_account_id}
            )
        except e.PaymentsApiError as exc:
            if exc.status_code != 404:
                raise
        return None

    async def disable_sweeping(self, merchant_account_id: str) -> None:
        """Turn sweeping off (``DELETE /v3/merchant-accounts/{id}/sweeping``, signed)."""
        await api.send(self._core, DISABLE_SWEEPING, {"merchant_account_id": merchant_account_id})


class RawMerchantAccountsService:
    """``tl.merchant_accounts.with_raw_response``: the same methods, each returning a
    :class:`~truelayer_async.RawResponse`; but ``transactions`` (pages), and
    ``get_sweeping``, whose ``None`` comes from a 404 error, not a response."""

    def __init__(self, accounts: MerchantAccountsService) -> None:
        self.list = raw_method(accounts.list)
        self.get = raw_method(accounts.get)
        self.payment_sources = raw_method(accounts.payment_sources)
        self.setup_sweeping = raw_method(accounts.setup_sweeping)
        self.disable_sweeping = raw_method(accounts.disable_sweeping)
