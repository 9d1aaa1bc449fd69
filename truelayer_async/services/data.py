"""``tl.data``: every Data API v1 endpoint as a typed coroutine.

The endpoints are described once, in a table (path, model, one or many, dated); each
has one short typed method. Each method takes ``user`` (the same key as the auth service;
``None`` for a single-user app) and ``psu_ip`` (sent as ``X-PSU-IP`` when the user is
present). Tokens are handled for you: an expiring token is refreshed first, and a 401
refreshes and replays once. ``tl.data.with_raw_response.<method>()`` returns a
:class:`RawResponse`; ``tl.data.with_async_mode(webhook_uri=...).<method>()`` starts
TrueLayer's async mode and returns a :class:`PendingResult`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from .. import errors as e
from .._converter import structure
from .._core import UserToken
from .._error_mapping import Api
from .._http import RateGate, Response
from .._raw import raw_method
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
from ._endpoints import Endpoint, many, one
from ._fan_out import FetchAllResult, Progress, UserResults, fetch_all
from ._params import DateLike, date_range, psu_ip_header
from ._pending import PendingResult

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["AsyncDataService", "DataService", "DateLike", "Endpoint", "RawDataService"]

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


_ACCOUNT = "/accounts/{account_id}"
_CARD = "/cards/{card_id}"
# Each endpoint's first argument names its operation: truelayer.data.<name>.
ME = one("me", "/me", Me)
INFO = many("info", "/info", Info)
ACCOUNTS = many("accounts", "/accounts", Account)
ACCOUNT = one("account", _ACCOUNT, Account)
BALANCE = one("balance", f"{_ACCOUNT}/balance", AccountBalance)
TRANSACTIONS = many("transactions", f"{_ACCOUNT}/transactions", Transaction, dated=True)
PENDING_TRANSACTIONS = many(
    "pending_transactions", f"{_ACCOUNT}/transactions/pending", Transaction, dated=True
)
STANDING_ORDERS = many("standing_orders", f"{_ACCOUNT}/standing_orders", StandingOrder)
DIRECT_DEBITS = many("direct_debits", f"{_ACCOUNT}/direct_debits", DirectDebit)
CARDS = many("cards", "/cards", Card)
CARD = one("card", _CARD, Card)
CARD_BALANCE = one("card_balance", f"{_CARD}/balance", CardBalance)
CARD_TRANSACTIONS = many("card_transactions", f"{_CARD}/transactions", CardTransaction, dated=True)
CARD_PENDING_TRANSACTIONS = many(
    "card_pending_transactions", f"{_CARD}/transactions/pending", CardTransaction, dated=True
)

_SYNC = object()  # DataService's mode when it is not an async-mode mirror


class DataService:
    """The Data API v1. Reached as ``tl.data``.

    Every method returns models (see :mod:`truelayer_async.models`); money is ``Decimal``
    and timestamps are timezone-aware. ``tl.data.with_async_mode(webhook_uri=...)`` has
    the same methods (but ``me`` and ``info``), starting TrueLayer's async mode instead:
    they return a :class:`PendingResult`, and ``await pending.result()`` polls until the
    data is ready.

    Errors: ``ReauthorizationRequired`` (consent expired or revoked: 403 access_denied),
    ``InsufficientScopeError`` (the token lacks the endpoint's scope: raised before any
    request when the token's scopes are known), ``ScaExceededError`` (403 sca_exceeded),
    ``AccountNotFoundError`` (404), ``EndpointNotSupportedError`` (501),
    ``UnauthenticatedError`` (401 after one refresh), ``RateLimitedError``,
    ``TransportError`` and ``MalformedResponseError``. Every
    ``ApiError`` carries the response's correlation id.
    """

    def __init__(
        self, core: Core, *, rate_gate: RateGate | None = None, _webhook: object = _SYNC
    ) -> None:
        self._core = core
        self._rate_gate = rate_gate
        self._webhook = _webhook  # _SYNC, or the async mode's webhook_uri (None allowed)
        self.with_raw_response = RawDataService(self)

    def with_async_mode(self, *, webhook_uri: str | None = None) -> AsyncDataService:
        """The Data API methods in TrueLayer's async mode (``async=true``), each returning
        a :class:`PendingResult`; TrueLayer calls ``webhook_uri`` when the data is ready."""
        return AsyncDataService(DataService(self._core, _webhook=webhook_uri))

    async def _fetch(
        self,
        endpoint: Endpoint[R],
        ident: str | None = None,
        *,
        user: str | None,
        psu_ip: str | None,
        from_: DateLike | None = None,
        to: DateLike | None = None,
    ) -> R:
        path = endpoint.path_for(ident)
        params = date_range(from_, to) if endpoint.dated else None
        if self._webhook is not _SYNC:
            return cast(R, await self._start_async(endpoint, path, params, user, psu_ip))
        response = await self._get(path, endpoint, user=user, psu_ip=psu_ip, params=params)
        return endpoint.decode(response)

    def _get(
        self,
        path: str,
        endpoint: Endpoint[Any],
        *,
        user: str | None,
        psu_ip: str | None,
        params: dict[str, str] | None = None,
    ) -> Awaitable[Response]:
        # A plain function returning the request's awaitable: one coroutine frame fewer.
        # None or "" (no forwarded address): the user is not present, no header.
        headers = None if psu_ip is None or psu_ip == "" else {"X-PSU-IP": psu_ip_header(psu_ip)}
        return self._core.authorized_request(
            "GET",
            f"{self._core.environment.data_url}{path}",
            source=UserToken(user),
            api=Api.DATA,
            params=params,
            headers=headers,
            rate_gate=self._rate_gate,
            scopes=endpoint.scopes,
            operation=endpoint.operation,
        )

    async def _start_async(
        self,
        endpoint: Endpoint[Any],
        path: str,
        params: dict[str, str] | None,
        user: str | None,
        psu_ip: str | None,
    ) -> PendingResult[Any]:
        query = dict(params or {})
        query["async"] = "true"
        if self._webhook is not None:
            query["webhook_uri"] = cast(str, self._webhook)
        response = await self._get(path, endpoint, user=user, psu_ip=psu_ip, params=query)
        if response.status_code != 202:
            raise e.MalformedResponseError(
                "expected 202 Accepted for an async request",
                status_code=response.status_code,
                correlation_id=response.correlation_id,
            )
        task = structure(response.json(), AsyncTask, correlation_id=response.correlation_id)
        return PendingResult(self._core, task, endpoint.model, single=not endpoint.many, user=user)

    async def me(self, *, user: str | None = None, psu_ip: str | None = None) -> Me:
        """The connection: client, provider, scopes and consent dates (GET /me)."""
        return await self._fetch(ME, user=user, psu_ip=psu_ip)

    async def info(self, *, user: str | None = None, psu_ip: str | None = None) -> list[Info]:
        """The account holder's identity (GET /info, scope ``info``)."""
        return await self._fetch(INFO, user=user, psu_ip=psu_ip)

    async def accounts(
        self, *, user: str | None = None, psu_ip: str | None = None
    ) -> list[Account]:
        """Every account of the connection (GET /accounts)."""
        return await self._fetch(ACCOUNTS, user=user, psu_ip=psu_ip)

    async def account(
        self, account_id: str, *, user: str | None = None, psu_ip: str | None = None
    ) -> Account:
        """One account (GET /accounts/{account_id})."""
        return await self._fetch(ACCOUNT, account_id, user=user, psu_ip=psu_ip)

    async def balance(
        self, account_id: str, *, user: str | None = None, psu_ip: str | None = None
    ) -> AccountBalance:
        """An account's balance (GET /accounts/{account_id}/balance, scope ``balance``)."""
        return await self._fetch(BALANCE, account_id, user=user, psu_ip=psu_ip)

    async def transactions(
        self,
        account_id: str,
        *,
        from_: DateLike | None = None,
        to: DateLike | None = None,
        user: str | None = None,
        psu_ip: str | None = None,
    ) -> list[Transaction]:
        """An account's booked transactions, ``from_``/``to`` inclusive.

        ``from_`` and ``to`` are ``date`` or aware ``datetime`` values; ``from_ > to``
        raises ``ValueError`` before any request.
        """
        return await self._fetch(
            TRANSACTIONS, account_id, user=user, psu_ip=psu_ip, from_=from_, to=to
        )

    async def pending_transactions(
        self,
        account_id: str,
        *,
        from_: DateLike | None = None,
        to: DateLike | None = None,
        user: str | None = None,
        psu_ip: str | None = None,
    ) -> list[Transaction]:
        """An account's pending transactions (GET .../transactions/pending)."""
        return await self._fetch(
            PENDING_TRANSACTIONS, account_id, user=user, psu_ip=psu_ip, from_=from_, to=to
        )

    async def standing_orders(
        self, account_id: str, *, user: str | None = None, psu_ip: str | None = None
    ) -> list[StandingOrder]:
        """An account's standing orders (scope ``standing_orders``)."""
        return await self._fetch(STANDING_ORDERS, account_id, user=user, psu_ip=psu_ip)

    async def direct_debits(
        self, account_id: str, *, user: str | None = None, psu_ip: str | None = None
    ) -> list[DirectDebit]:
        """An account's direct debits (scope ``direct_debits``)."""
        return await self._fetch(DIRECT_DEBITS, account_id, user=user, psu_ip=psu_ip)

    async def cards(self, *, user: str | None = None, psu_ip: str | None = None) -> list[Card]:
        """Every card of the connection (GET /cards, scope ``cards``)."""
        return await self._fetch(CARDS, user=user, psu_ip=psu_ip)

    async def card(
        self, card_id: str, *, user: str | None = None, psu_ip: str | None = None
    ) -> Card:
        """One card (GET /cards/{card_id})."""
        return await self._fetch(CARD, card_id, user=user, psu_ip=psu_ip)

    async def card_balance(
        self, card_id: str, *, user: str | None = None, psu_ip: str | None = None
    ) -> CardBalance:
        """A card's balance (GET /cards/{card_id}/balance)."""
        return await self._fetch(CARD_BALANCE, card_id, user=user, psu_ip=psu_ip)

    async def card_transactions(
        self,
        card_id: str,
        *,
        from_: DateLike | None = None,
        to: DateLike | None = None,
        user: str | None = None,
        psu_ip: str | None = None,
    ) -> list[CardTransaction]:
        """A card's booked transactions.

        Use ``transaction_type``, not the sign of ``amount``, for the direction.
        """
        return await self._fetch(
            CARD_TRANSACTIONS, card_id, user=user, psu_ip=psu_ip, from_=from_, to=to
        )

    async def card_pending_transactions(
        self,
        card_id: str,
        *,
        from_: DateLike | None = None,
        to: DateLike | None = None,
        user: str | None = None,
        psu_ip: str | None = None,
    ) -> list[CardTransaction]:
        """A card's pending transactions."""
        return await self._fetch(
            CARD_PENDING_TRANSACTIONS, card_id, user=user, psu_ip=psu_ip, from_=from_, to=to
        )

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
            await self._core.send(
                "GET",
                f"{self._core.environment.data_url}/me",
                api=Api.DATA,
                bearer=token.access_token,
                operation="truelayer.data.validate_token",
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
        return await fetch_all(self._fan_out(), list(users), (from_, to), concurrency, on_progress)

    def iter_all(
        self,
        users: Iterable[str | None],
        *,
        from_: DateLike | None = None,
        to: DateLike | None = None,
        concurrency: int = 16,
        on_progress: Callable[[Progress], Any] | None = None,
    ) -> UserResults:
        """``fetch_all``, handing each user's result over as soon as that user finishes::

            async with tl.data.iter_all(users, from_=since) as results:
                async for result in results:
                    await save(result)

        Same keywords, per-user errors and progress; results come in the order users
        finish, and only about ``2 * concurrency`` are held at once (a slow loop body
        slows the fetching). Leaving the block early cancels the work in flight. Bad
        arguments raise here, before anything starts. See :class:`UserResults`.
        """
        return UserResults(self._fan_out(), list(users), (from_, to), concurrency, on_progress)

    def _fan_out(self) -> DataService:
        # One 429 back-off shared by every user of one fan-out.
        gate = RateGate(clock=self._core.clock, sleep=self._core.sleep)
        return DataService(self._core, rate_gate=gate)


def _pending(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[PendingResult[R]]]:
    # An async-mode DataService's method returns a PendingResult (see _fetch).
    return cast(Callable[P, Awaitable[PendingResult[R]]], method)


class AsyncDataService:
    """``tl.data.with_async_mode(webhook_uri=...)``: each method starts TrueLayer's async
    mode and returns a :class:`PendingResult` (``me`` and ``info`` have no async mode)."""

    def __init__(self, data: DataService) -> None:
        self.accounts = _pending(data.accounts)
        self.account = _pending(data.account)
        self.balance = _pending(data.balance)
        self.transactions = _pending(data.transactions)
        self.pending_transactions = _pending(data.pending_transactions)
        self.standing_orders = _pending(data.standing_orders)
        self.direct_debits = _pending(data.direct_debits)
        self.cards = _pending(data.cards)
        self.card = _pending(data.card)
        self.card_balance = _pending(data.card_balance)
        self.card_transactions = _pending(data.card_transactions)
        self.card_pending_transactions = _pending(data.card_pending_transactions)


class RawDataService:
    """``tl.data.with_raw_response``: the same methods, returning :class:`RawResponse`."""

    def __init__(self, data: DataService) -> None:
        self.me = raw_method(data.me)
        self.info = raw_method(data.info)
        self.accounts = raw_method(data.accounts)
        self.account = raw_method(data.account)
        self.balance = raw_method(data.balance)
        self.transactions = raw_method(data.transactions)
        self.pending_transactions = raw_method(data.pending_transactions)
        self.standing_orders = raw_method(data.standing_orders)
        self.direct_debits = raw_method(data.direct_debits)
        self.cards = raw_method(data.cards)
        self.card = raw_method(data.card)
        self.card_balance = raw_method(data.card_balance)
        self.card_transactions = raw_method(data.card_transactions)
        self.card_pending_transactions = raw_method(data.card_pending_transactions)
