"""``tl.data``: every Data API v1 endpoint as a typed coroutine.

Each method takes ``user`` (the same key as the auth service; ``None`` for a single-user
app) and ``psu_ip`` (sent as ``X-PSU-IP`` when the user is present). Tokens are handled
for you: an expiring token is refreshed first, and a 401 refreshes and replays once.
``tl.data.with_raw_response.<method>()`` returns a :class:`RawResponse` instead.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timezone
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from .. import errors as e
from .._converter import structure
from .._core import UserToken
from .._error_mapping import Api
from .._http import RateGate, Response
from .._path_segment import path_segment
from .._raw import RawResponse
from .._results import one_result_of, results_of
from ..models import (
    Account,
    AccountBalance,
    AsyncTask,
    Card,
    CardBalance,
    CardTransaction,
    DirectDebit,
    Info,
    Me,
    StandingOrder,
    Transaction,
)
from ._fan_out import FetchAllResult, Progress, fetch_all
from ._pending import PendingResult
from ._scopes import required_scopes

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["DataService", "DateLike", "RawDataService"]

T = TypeVar("T")
DateLike = date | datetime


def _iso(value: DateLike, name: str) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise e.InvalidParameterError(f"{name} must be a date or a timezone-aware datetime")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise e.InvalidParameterError(f"{name} must be a date or a datetime")


def _as_datetime(value: DateLike) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=timezone.utc)


def date_range(from_: DateLike | None, to: DateLike | None) -> dict[str, str]:
    """The ``from``/``to`` query parameters, checked before any request is made."""
    params: dict[str, str] = {}
    if from_ is not None:
        params["from"] = _iso(from_, "from_")
    if to is not None:
        params["to"] = _iso(to, "to")
    if from_ is not None and to is not None and _as_datetime(from_) > _as_datetime(to):
        raise e.InvalidParameterError("from_ must not be after to")
    return params


def _psu_ip_header(psu_ip: object) -> str:
    """The ``X-PSU-IP`` value: one IPv4 or IPv6 address, or ``InvalidParameterError``.

    It usually comes from ``X-Forwarded-For``, so it is untrusted: a list, a name, CR/LF
    or non-ASCII text is refused before any request (the message does not echo it).
    """
    if isinstance(psu_ip, str) and psu_ip.isascii():
        try:
            ipaddress.ip_address(psu_ip)
        except ValueError:
            pass
        else:
            return psu_ip
    raise e.InvalidParameterError(
        "psu_ip must be one IPv4 or IPv6 address (the end user's, e.g. the first entry of "
        "X-Forwarded-For)"
    )


def _account_path(account_id: str, suffix: str = "") -> str:
    return f"/accounts/{path_segment(account_id, 'account_id')}{suffix}"


def _card_path(card_id: str, suffix: str = "") -> str:
    return f"/cards/{path_segment(card_id, 'card_id')}{suffix}"


class RawDataService:
    """The Data API methods, returning :class:`RawResponse` (the model plus HTTP details)."""

    def __init__(self, core: Core, *, rate_gate: RateGate | None = None) -> None:
        self.core = core
        self._rate_gate = rate_gate

    async def _get(
        self,
        path: str,
        *,
        user: str | None,
        psu_ip: str | None,
        params: dict[str, str] | None = None,
    ) -> Response:
        # None or "" (no forwarded address): the user is not present, no header.
        headers = None if psu_ip is None or psu_ip == "" else {"X-PSU-IP": _psu_ip_header(psu_ip)}
        return await self.core.authorized_request(
            "GET",
            f"{self.core.environment.data_url}{path}",
            source=UserToken(user),
            api=Api.DATA,
            params=params,
            headers=headers,
            rate_gate=self._rate_gate,
            scopes=required_scopes(path),
        )

    def _raw(self, response: Response, parsed: T) -> RawResponse[T]:
        return RawResponse(
            parsed=parsed,
            http_response=response.http_response,
            status_code=response.status_code,
            headers=response.headers,
            correlation_id=response.correlation_id,
            retries_taken=response.retries_taken,
        )

    async def _list(
        self,
        path: str,
        item: type[T],
        user: str | None,
        psu_ip: str | None,
        params: dict[str, str] | None = None,
    ) -> RawResponse[list[T]]:
        response = await self._get(path, user=user, psu_ip=psu_ip, params=params)
        return self._raw(response, results_of(response, item))

    async def _one(
        self, path: str, item: type[T], user: str | None, psu_ip: str | None
    ) -> RawResponse[T]:
        response = await self._get(path, user=user, psu_ip=psu_ip)
        return self._raw(response, one_result_of(response, item))

    async def me(self, *, user: str | None = None, psu_ip: str | None = None) -> RawResponse[Me]:
        """GET /me."""
        return await self._one("/me", Me, user, psu_ip)

    async def info(
        self, *, user: str | None = None, psu_ip: str | None = None
    ) -> RawResponse[list[Info]]:
        """GET /info."""
        return await self._list("/info", Info, user, psu_ip)

    async def accounts(
        self, *, user: str | None = None, psu_ip: str | None = None
    ) -> RawResponse[list[Account]]:
        """GET /accounts."""
        return await self._list("/accounts", Account, user, psu_ip)

    async def account(
        self, account_id: str, *, user: str | None = None, psu_ip: str | None = None
    ) -> RawResponse[Account]:
        """GET /accounts/{account_id}."""
        return await self._one(_account_path(account_id), Account, user, psu_ip)

    async def balance(
        self, account_id: str, *, user: str | None = None, psu_ip: str | None = None
    ) -> RawResponse[AccountBalance]:
        """GET /accounts/{account_id}/balance."""
        path = _account_path(account_id, "/balance")
        return await self._one(path, AccountBalance, user, psu_ip)

    async def transactions(
        self,
        account_id: str,
        *,
        from_: DateLike | None = None,
        to: DateLike | None = None,
        user: str | None = None,
        psu_ip: str | None = None,
    ) -> RawResponse[list[Transaction]]:
        """GET /accounts/{account_id}/transactions."""
        path = _account_path(account_id, "/transactions")
        return await self._list(path, Transaction, user, psu_ip, date_range(from_, to))

    async def pending_transactions(
        self,
        account_id: str,
        *,
        from_: DateLike | None = None,
        to: DateLike | None = None,
        user: str | None = None,
        psu_ip: str | None = None,
    ) -> RawResponse[list[Transaction]]:
        """GET /accounts/{account_id}/transactions/pending."""
        path = _account_path(account_id, "/transactions/pending")
        return await self._list(path, Transaction, user, psu_ip, date_range(from_, to))

    async def standing_orders(
        self, account_id: str, *, user: str | None = None, psu_ip: str | None = None
    ) -> RawResponse[list[StandingOrder]]:
        """GET /accounts/{account_id}/standing_orders."""
        path = _account_path(account_id, "/standing_orders")
        return await self._list(path, StandingOrder, user, psu_ip)

    async def direct_debits(
        self, account_id: str, *, user: str | None = None, psu_ip: str | None = None
    ) -> RawResponse[list[DirectDebit]]:
        """GET /accounts/{account_id}/direct_debits."""
        path = _account_path(account_id, "/direct_debits")
        return await self._list(path, DirectDebit, user, psu_ip)

    async def cards(
        self, *, user: str | None = None, psu_ip: str | None = None
    ) -> RawResponse[list[Card]]:
        """GET /cards."""
        return await self._list("/cards", Card, user, psu_ip)

    async def card(
        self, card_id: str, *, user: str | None = None, psu_ip: str | None = None
    ) -> RawResponse[Card]:
        """GET /cards/{card_id}."""
        return await self._one(_card_path(card_id), Card, user, psu_ip)

    async def card_balance(
        self, card_id: str, *, user: str | None = None, psu_ip: str | None = None
    ) -> RawResponse[CardBalance]:
        """GET /cards/{card_id}/balance."""
        path = _card_path(card_id, "/balance")
        return await self._one(path, CardBalance, user, psu_ip)

    async def card_transactions(
        self,
        card_id: str,
        *,
        from_: DateLike | None = None,
        to: DateLike | None = None,
        user: str | None = None,
        psu_ip: str | None = None,
    ) -> RawResponse[list[CardTransaction]]:
        """GET /cards/{card_id}/transactions."""
        path = _card_path(card_id, "/transactions")
        return await self._list(path, CardTransaction, user, psu_ip, date_range(from_, to))

    async def card_pending_transactions(
        self,
        card_id: str,
        *,
        from_: DateLike | None = None,
        to: DateLike | None = None,
        user: str | None = None,
        psu_ip: str | None = None,
    ) -> RawResponse[list[CardTransaction]]:
        """GET /cards/{card_id}/transactions/pending."""
        path = _card_path(card_id, "/transactions/pending")
        return await self._list(path, CardTransaction, user, psu_ip, date_range(from_, to))


class DataService:
    """The Data API v1. Reached as ``tl.data``.

    Every method returns models (see :mod:`truelayer_async.models`); money is ``Decimal``
    and timestamps are timezone-aware. Methods that accept ``run_async=True`` start
    TrueLayer's async mode instead and return a :class:`PendingResult`; ``await
    pending.result()`` polls until the data is ready.

    Errors: ``ReauthorizationRequired`` (consent expired or revoked: 403 access_denied),
    ``InsufficientScopeError`` (the token lacks the endpoint's scope: raised before any
    request when the token's scopes are known), ``ScaExceededError`` (403 sca_exceeded),
    ``AccountNotFoundError`` (404), ``EndpointNotSupportedError`` (501),
    ``UnauthenticatedError`` (401 after one refresh), ``RateLimitedError``,
    ``TransportError`` and ``MalformedResponseError``. Every
    ``ApiError`` carries the response's correlation id.
    """

    def __init__(self, core: Core) -> None:
        self._core = core
        self.with_raw_response = RawDataService(core)

    async def _start_async(
        self,
        path: str,
        item: type[Any],
        *,
        single: bool,
        user: str | None,
        psu_ip: str | None,
        params: dict[str, str] | None,
        webhook_uri: str | None,
    ) -> PendingResult[Any]:
        query = dict(params or {})
        query["async"] = "true"
        if webhook_uri is not None:
            query["webhook_uri"] = webhook_uri
        response = await self.with_raw_response._get(path, user=user, psu_ip=psu_ip, params=query)
        if response.status_code != 202:
            raise e.MalformedResponseError(
                "expected 202 Accepted for an async request",
                status_code=response.status_code,
                correlation_id=response.correlation_id,
            )
        task = structure(response.json(), AsyncTask, correlation_id=response.correlation_id)
        return PendingResult(self._core, task, item, single=single, user=user)

    async def me(self, *, user: str | None = None, psu_ip: str | None = None) -> Me:
        """The connection: client, provider, scopes and consent dates (GET /me)."""
        return (await self.with_raw_response.me(user=user, psu_ip=psu_ip)).parsed

    async def info(self, *, user: str | None = None, psu_ip: str | None = None) -> list[Info]:
        """The account holder's identity (GET /info, scope ``info``)."""
        return (await self.with_raw_response.info(user=user, psu_ip=psu_ip)).parsed

    @overload
    async def accounts(
        self,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[False] = ...,
    ) -> list[Account]: ...
    @overload
    async def accounts(
        self,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[True],
        webhook_uri: str | None = ...,
    ) -> PendingResult[list[Account]]: ...
    async def accounts(
        self,
        *,
        user: str | None = None,
        psu_ip: str | None = None,
        run_async: bool = False,
        webhook_uri: str | None = None,
    ) -> list[Account] | PendingResult[list[Account]]:
        """Every account of the connection (GET /accounts)."""
        if run_async:
            return await self._start_async(
                "/accounts",
                Account,
                single=False,
                user=user,
                psu_ip=psu_ip,
                params=None,
                webhook_uri=webhook_uri,
            )
        raw = await self.with_raw_response.accounts(user=user, psu_ip=psu_ip)
        return raw.parsed

    @overload
    async def account(
        self,
        account_id: str,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[False] = ...,
    ) -> Account: ...
    @overload
    async def account(
        self,
        account_id: str,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[True],
        webhook_uri: str | None = ...,
    ) -> PendingResult[Account]: ...
    async def account(
        self,
        account_id: str,
        *,
        user: str | None = None,
        psu_ip: str | None = None,
        run_async: bool = False,
        webhook_uri: str | None = None,
    ) -> Account | PendingResult[Account]:
        """One account (GET /accounts/{account_id})."""
        if run_async:
            return await self._start_async(
                _account_path(account_id),
                Account,
                single=True,
                user=user,
                psu_ip=psu_ip,
                params=None,
                webhook_uri=webhook_uri,
            )
        raw = await self.with_raw_response.account(account_id, user=user, psu_ip=psu_ip)
        return raw.parsed

    @overload
    async def balance(
        self,
        account_id: str,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[False] = ...,
    ) -> AccountBalance: ...
    @overload
    async def balance(
        self,
        account_id: str,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[True],
        webhook_uri: str | None = ...,
    ) -> PendingResult[AccountBalance]: ...
    async def balance(
        self,
        account_id: str,
        *,
        user: str | None = None,
        psu_ip: str | None = None,
        run_async: bool = False,
        webhook_uri: str | None = None,
    ) -> AccountBalance | PendingResult[AccountBalance]:
        """An account's balance (GET /accounts/{account_id}/balance)."""
        if run_async:
            return await self._start_async(
                _account_path(account_id, "/balance"),
                AccountBalance,
                single=True,
                user=user,
                psu_ip=psu_ip,
                params=None,
                webhook_uri=webhook_uri,
            )
        raw = await self.with_raw_response.balance(account_id, user=user, psu_ip=psu_ip)
        return raw.parsed

    @overload
    async def transactions(
        self,
        account_id: str,
        *,
        from_: DateLike | None = ...,
        to: DateLike | None = ...,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[False] = ...,
    ) -> list[Transaction]: ...
    @overload
    async def transactions(
        self,
        account_id: str,
        *,
        from_: DateLike | None = ...,
        to: DateLike | None = ...,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[True],
        webhook_uri: str | None = ...,
    ) -> PendingResult[list[Transaction]]: ...
    async def transactions(
        self,
        account_id: str,
        *,
        from_: DateLike | None = None,
        to: DateLike | None = None,
        user: str | None = None,
        psu_ip: str | None = None,
        run_async: bool = False,
        webhook_uri: str | None = None,
    ) -> list[Transaction] | PendingResult[list[Transaction]]:
        """An account's booked transactions, ``from_``/``to`` inclusive.

        ``from_`` and ``to`` are ``date`` or aware ``datetime`` values; ``from_ > to``
        raises ``ValueError`` before any request.
        """
        if run_async:
            return await self._start_async(
                _account_path(account_id, "/transactions"),
                Transaction,
                single=False,
                user=user,
                psu_ip=psu_ip,
                params=date_range(from_, to),
                webhook_uri=webhook_uri,
            )
        raw = await self.with_raw_response.transactions(
            account_id, from_=from_, to=to, user=user, psu_ip=psu_ip
        )
        return raw.parsed

    @overload
    async def pending_transactions(
        self,
        account_id: str,
        *,
        from_: DateLike | None = ...,
        to: DateLike | None = ...,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[False] = ...,
    ) -> list[Transaction]: ...
    @overload
    async def pending_transactions(
        self,
        account_id: str,
        *,
        from_: DateLike | None = ...,
        to: DateLike | None = ...,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[True],
        webhook_uri: str | None = ...,
    ) -> PendingResult[list[Transaction]]: ...
    async def pending_transactions(
        self,
        account_id: str,
        *,
        from_: DateLike | None = None,
        to: DateLike | None = None,
        user: str | None = None,
        psu_ip: str | None = None,
        run_async: bool = False,
        webhook_uri: str | None = None,
    ) -> list[Transaction] | PendingResult[list[Transaction]]:
        """An account's pending transactions (GET .../transactions/pending)."""
        if run_async:
            return await self._start_async(
                _account_path(account_id, "/transactions/pending"),
                Transaction,
                single=False,
                user=user,
                psu_ip=psu_ip,
                params=date_range(from_, to),
                webhook_uri=webhook_uri,
            )
        raw = await self.with_raw_response.pending_transactions(
            account_id, from_=from_, to=to, user=user, psu_ip=psu_ip
        )
        return raw.parsed

    @overload
    async def standing_orders(
        self,
        account_id: str,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[False] = ...,
    ) -> list[StandingOrder]: ...
    @overload
    async def standing_orders(
        self,
        account_id: str,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[True],
        webhook_uri: str | None = ...,
    ) -> PendingResult[list[StandingOrder]]: ...
    async def standing_orders(
        self,
        account_id: str,
        *,
        user: str | None = None,
        psu_ip: str | None = None,
        run_async: bool = False,
        webhook_uri: str | None = None,
    ) -> list[StandingOrder] | PendingResult[list[StandingOrder]]:
        """An account's standing orders (scope ``standing_orders``)."""
        if run_async:
            return await self._start_async(
                _account_path(account_id, "/standing_orders"),
                StandingOrder,
                single=False,
                user=user,
                psu_ip=psu_ip,
                params=None,
                webhook_uri=webhook_uri,
            )
        raw = await self.with_raw_response.standing_orders(account_id, user=user, psu_ip=psu_ip)
        return raw.parsed

    @overload
    async def direct_debits(
        self,
        account_id: str,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[False] = ...,
    ) -> list[DirectDebit]: ...
    @overload
    async def direct_debits(
        self,
        account_id: str,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[True],
        webhook_uri: str | None = ...,
    ) -> PendingResult[list[DirectDebit]]: ...
    async def direct_debits(
        self,
        account_id: str,
        *,
        user: str | None = None,
        psu_ip: str | None = None,
        run_async: bool = False,
        webhook_uri: str | None = None,
    ) -> list[DirectDebit] | PendingResult[list[DirectDebit]]:
        """An account's direct debits (scope ``direct_debits``)."""
        if run_async:
            return await self._start_async(
                _account_path(account_id, "/direct_debits"),
                DirectDebit,
                single=False,
                user=user,
                psu_ip=psu_ip,
                params=None,
                webhook_uri=webhook_uri,
            )
        raw = await self.with_raw_response.direct_debits(account_id, user=user, psu_ip=psu_ip)
        return raw.parsed

    @overload
    async def cards(
        self,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[False] = ...,
    ) -> list[Card]: ...
    @overload
    async def cards(
        self,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[True],
        webhook_uri: str | None = ...,
    ) -> PendingResult[list[Card]]: ...
    async def cards(
        self,
        *,
        user: str | None = None,
        psu_ip: str | None = None,
        run_async: bool = False,
        webhook_uri: str | None = None,
    ) -> list[Card] | PendingResult[list[Card]]:
        """Every card of the connection (GET /cards, scope ``cards``)."""
        if run_async:
            return await self._start_async(
                "/cards",
                Card,
                single=False,
                user=user,
                psu_ip=psu_ip,
                params=None,
                webhook_uri=webhook_uri,
            )
        raw = await self.with_raw_response.cards(user=user, psu_ip=psu_ip)
        return raw.parsed

    @overload
    async def card(
        self,
        card_id: str,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[False] = ...,
    ) -> Card: ...
    @overload
    async def card(
        self,
        card_id: str,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[True],
        webhook_uri: str | None = ...,
    ) -> PendingResult[Card]: ...
    async def card(
        self,
        card_id: str,
        *,
        user: str | None = None,
        psu_ip: str | None = None,
        run_async: bool = False,
        webhook_uri: str | None = None,
    ) -> Card | PendingResult[Card]:
        """One card (GET /cards/{card_id})."""
        if run_async:
            return await self._start_async(
                _card_path(card_id),
                Card,
                single=True,
                user=user,
                psu_ip=psu_ip,
                params=None,
                webhook_uri=webhook_uri,
            )
        raw = await self.with_raw_response.card(card_id, user=user, psu_ip=psu_ip)
        return raw.parsed

    @overload
    async def card_balance(
        self,
        card_id: str,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[False] = ...,
    ) -> CardBalance: ...
    @overload
    async def card_balance(
        self,
        card_id: str,
        *,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[True],
        webhook_uri: str | None = ...,
    ) -> PendingResult[CardBalance]: ...
    async def card_balance(
        self,
        card_id: str,
        *,
        user: str | None = None,
        psu_ip: str | None = None,
        run_async: bool = False,
        webhook_uri: str | None = None,
    ) -> CardBalance | PendingResult[CardBalance]:
        """A card's balance (GET /cards/{card_id}/balance)."""
        if run_async:
            return await self._start_async(
                _card_path(card_id, "/balance"),
                CardBalance,
                single=True,
                user=user,
                psu_ip=psu_ip,
                params=None,
                webhook_uri=webhook_uri,
            )
        raw = await self.with_raw_response.card_balance(card_id, user=user, psu_ip=psu_ip)
        return raw.parsed

    @overload
    async def card_transactions(
        self,
        card_id: str,
        *,
        from_: DateLike | None = ...,
        to: DateLike | None = ...,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[False] = ...,
    ) -> list[CardTransaction]: ...
    @overload
    async def card_transactions(
        self,
        card_id: str,
        *,
        from_: DateLike | None = ...,
        to: DateLike | None = ...,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[True],
        webhook_uri: str | None = ...,
    ) -> PendingResult[list[CardTransaction]]: ...
    async def card_transactions(
        self,
        card_id: str,
        *,
        from_: DateLike | None = None,
        to: DateLike | None = None,
        user: str | None = None,
        psu_ip: str | None = None,
        run_async: bool = False,
        webhook_uri: str | None = None,
    ) -> list[CardTransaction] | PendingResult[list[CardTransaction]]:
        """A card's booked transactions.

        Use ``transaction_type``, not the sign of ``amount``, for the direction.
        """
        if run_async:
            return await self._start_async(
                _card_path(card_id, "/transactions"),
                CardTransaction,
                single=False,
                user=user,
                psu_ip=psu_ip,
                params=date_range(from_, to),
                webhook_uri=webhook_uri,
            )
        raw = await self.with_raw_response.card_transactions(
            card_id, from_=from_, to=to, user=user, psu_ip=psu_ip
        )
        return raw.parsed

    @overload
    async def card_pending_transactions(
        self,
        card_id: str,
        *,
        from_: DateLike | None = ...,
        to: DateLike | None = ...,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[False] = ...,
    ) -> list[CardTransaction]: ...
    @overload
    async def card_pending_transactions(
        self,
        card_id: str,
        *,
        from_: DateLike | None = ...,
        to: DateLike | None = ...,
        user: str | None = ...,
        psu_ip: str | None = ...,
        run_async: Literal[True],
        webhook_uri: str | None = ...,
    ) -> PendingResult[list[CardTransaction]]: ...
    async def card_pending_transactions(
        self,
        card_id: str,
        *,
        from_: DateLike | None = None,
        to: DateLike | None = None,
        user: str | None = None,
        psu_ip: str | None = None,
        run_async: bool = False,
        webhook_uri: str | None = None,
    ) -> list[CardTransaction] | PendingResult[list[CardTransaction]]:
        """A card's pending transactions."""
        if run_async:
            return await self._start_async(
                _card_path(card_id, "/transactions/pending"),
                CardTransaction,
                single=False,
                user=user,
                psu_ip=psu_ip,
                params=date_range(from_, to),
                webhook_uri=webhook_uri,
            )
        raw = await self.with_raw_response.card_pending_transactions(
            card_id, from_=from_, to=to, user=user, psu_ip=psu_ip
        )
        return raw.parsed

    async def validate_token(self, *, user: str | None = None) -> bool:
        """Whether the user's token is accepted by the Data API right now (GET /me).

        The token comes from ``valid_token`` (so an expiring one is refreshed first), but a
        401 is not replayed: it answers ``False``, as do ``ReauthorizationRequired`` and a
        missing token.
        """
        try:
            token = await self._core.token_for(UserToken(user))
        except (e.NoTokenError, e.ReauthorizationRequired):
            return False
        try:
            await self._core.requester().request(
                "GET",
                f"{self._core.environment.data_url}/me",
                api=Api.DATA,
                bearer=token.access_token,
            )
        except e.ApiError as exc:
            if exc.status_code == 401 or isinstance(exc, e.ReauthorizationRequired):
                return False
            raise
        return True

    async def fetch_all(
        self,
        users: Iterable[str | None],
        *,
        from_: DateLike | None = None,
        to: DateLike | None = None,
        concurrency: int = 16,
        on_progress: Callable[[Progress], Any] | None = None,
    ) -> list[FetchAllResult]:
        """Fetch accounts, balances and transactions (and cards, where the scopes allow) for
        many users at once. See :func:`truelayer_async.services._fan_out.fetch_all`."""
        date_range(from_, to)  # fail fast on a bad range, before any request
        gate = RateGate(clock=self._core.clock, sleep=self._core.sleep)
        raw = RawDataService(self._core, rate_gate=gate)
        return await fetch_all(
            raw, list(users), from_=from_, to=to, concurrency=concurrency, on_progress=on_progress
        )
