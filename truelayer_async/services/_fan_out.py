"""``fetch_all`` and ``iter_all``: many users' data at once, with bounded concurrency and
per-user errors; ``iter_all`` hands results over as users finish, with back-pressure."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import attrs
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectSendStream

from .. import errors as e
from .._core import UserToken
from ..models import Account, AccountBalance, Card, CardBalance, CardTransaction, Transaction
from ._params import DateLike, date_range

if TYPE_CHECKING:
    from .data import DataService

__all__ = [
    "AccountData",
    "CardData",
    "FetchAllResult",
    "Progress",
    "UserResults",
    "fetch_all",
]

T = TypeVar("T")
MAX_CONCURRENCY = 64  # the Session's default pool (max_connections) holds this many
Limited = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]


@attrs.frozen(kw_only=True)
class AccountData:
    """One account with its balance and transactions."""

    account: Account
    balance: AccountBalance | None
    transactions: tuple[Transaction, ...]


@attrs.frozen(kw_only=True)
class CardData:
    """One card with its balance and transactions."""

    card: Card
    balance: CardBalance | None
    transactions: tuple[CardTransaction, ...]


@attrs.frozen(kw_only=True)
class FetchAllResult:
    """One user's outcome: their data, or the error that stopped it (``ok`` tells which)."""

    user: str | None
    accounts: tuple[AccountData, ...] = ()
    cards: tuple[CardData, ...] = ()
    error: e.TrueLayerError | None = None

    @property
    def ok(self) -> bool:
        """Whether this user's data was fetched completely."""
        return self.error is None


@attrs.frozen(kw_only=True)
class Progress:
    """Passed to ``on_progress`` after each user finishes."""

    done: int
    total: int
    user: str | None
    ok: bool


class UserResults:
    """What ``tl.data.iter_all()`` returns: one result per user, in the order users finish.

    Use it as an async context manager, then iterate it::

        async with tl.data.iter_all(users, concurrency=16) as results:
            async for result in results:
                save(result)  # result.ok, result.accounts, result.error ...

    The fetching runs in a task group that the ``async with`` block owns, so memory is
    bounded by the concurrency, not the number of users: at most ``concurrency`` users are
    being fetched, and at most ``concurrency`` finished results wait for you (then the
    fetching pauses until you take one). Leaving the block early (``break``, an exception,
    a cancellation) cancels the users in flight and waits for them, so no request or
    response outlives the block. Iterating without ``async with`` raises ``RuntimeError``:
    a bare ``async for`` cannot clean up after a ``break``.
    """

    def __init__(
        self,
        data: DataService,
        users: Sequence[str | None],
        window: tuple[DateLike | None, DateLike | None],
        concurrency: int,
        on_progress: Callable[[Progress], Any] | None,
    ) -> None:
        date_range(*window)  # fail fast on a bad range, before any request
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise e.InvalidParameterError(f"concurrency must be between 1 and {MAX_CONCURRENCY}")
        pool = data._core.max_connections
        if pool is not None:  # more would only queue for a connection (under the pool timeout)
            concurrency = min(concurrency, pool)
        self._data = data
        self._users = users
        self._window = window
        self._concurrency = concurrency
        self._on_progress = on_progress
        self._done = 0
        self._task_group: TaskGroup | None = None
        self._entered = False
        send, receive = anyio.create_memory_object_stream[tuple[int, FetchAllResult]](
            max_buffer_size=concurrency
        )
        self._send = send
        self._receive = receive

    async def __aenter__(self) -> UserResults:
        if self._entered:
            raise RuntimeError("iter_all() results can be entered only once")
        self._entered = True
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        task_group.start_soon(self._feed, task_group)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        task_group = self._task_group
        assert task_group is not None
        task_group.cancel_scope.cancel()  # users not yet taken are not wanted any more
        try:
            return await task_group.__aexit__(exc_type, exc, tb)
        except BaseException as group:
            # The loop body's own exception goes on as itself (traceback and context
            # intact), not wrapped in an exception group.
            if exc is not None and getattr(group, "exceptions", None) == (exc,):
                return False
            raise
        finally:
            self._receive.close()
            self._task_group = None

    def __aiter__(self) -> UserResults:
        if self._task_group is None:
            raise RuntimeError(
                "iterate iter_all() inside its block: "
                "`async with tl.data.iter_all(users) as results: async for r in results: ...`"
            )
        return self

    async def __anext__(self) -> FetchAllResult:
        return (await self._next_indexed())[1]

    async def _next_indexed(self) -> tuple[int, FetchAllResult]:
        """The next finished user as ``(its index in users, its result)``."""
        if self._task_group is None:
            raise StopAsyncIteration
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None

    async def _feed(self, task_group: TaskGroup) -> None:
        # One task per user in flight, never one per user up front: a user's task starts
        # when a slot frees, and holds its slot until its result is in the buffer.
        slots = anyio.Semaphore(self._concurrency)
        requests = anyio.CapacityLimiter(self._concurrency)

        async def limited(call: Callable[[], Awaitable[T]]) -> T:
            async with requests:
                return await call()

        async with self._send:
            for index, user in enumerate(self._users):
                await slots.acquire()
                task_group.start_soon(
                    self._one_user, index, user, self._send.clone(), slots, limited
                )

    async def _one_user(
        self,
        index: int,
        user: str | None,
        send: MemoryObjectSendStream[tuple[int, FetchAllResult]],
        slots: anyio.Semaphore,
        limited: Limited,
    ) -> None:
        async with send:
            try:
                try:
                    result = await _fetch_user(self._data, user, self._window, limited)
                except e.TrueLayerError as exc:
                    result = FetchAllResult(user=user, error=exc)
                self._done += 1
                if self._on_progress is not None:
                    progress = Progress(
                        done=self._done, total=len(self._users), user=user, ok=result.ok
                    )
                    outcome = self._on_progress(progress)
                    if inspect.isawaitable(outcome):
                        await outcome
                await send.send((index, result))
            finally:
                slots.release()


async def fetch_all(
    data: DataService,
    users: Sequence[str | None],
    window: tuple[DateLike | None, DateLike | None],
    concurrency: int,
    on_progress: Callable[[Progress], Any] | None,
) -> list[FetchAllResult]:
    """Fetch every user's data with at most ``concurrency`` requests in flight.

    Resources the token's known scopes do not cover are skipped, and a 501 on ``/accounts``
    or ``/cards`` (a bank without that kind of product) reads as none of them.

    A user's failure (``ReauthorizationRequired``, say) is recorded in that user's result
    and never cancels the others. Results come back in the order of ``users``. At most
    ``concurrency`` users are in progress at once (in the order given), so users finish
    one after another and ``on_progress`` moves steadily instead of all at the end.
    It is :class:`UserResults` with every result kept. ``concurrency`` is held to the
    Session's ``max_connections`` (its own client's pool).
    """
    results: list[FetchAllResult | None] = [None] * len(users)
    stream = UserResults(data, users, window, concurrency, on_progress)
    async with stream:
        while True:
            try:
                index, result = await stream._next_indexed()
            except StopAsyncIteration:
                break
            results[index] = result
    return [r for r in results if r is not None]


async def _unless_unsupported(call: Awaitable[list[T]]) -> list[T]:
    """The listed resources, or none when the provider does not offer them (501)."""
    try:
        return await call
    except e.EndpointNotSupportedError:
        return []


async def _fetch_user(
    data: DataService,
    user: str | None,
    window: tuple[DateLike | None, DateLike | None],
    limited: Limited,
) -> FetchAllResult:
    from_, to = window
    token = await data._core.token_for(UserToken(user))
    scopes = set(token.scopes)
    everything = not scopes  # scopes unknown: try everything

    async def one_account(index: int, account: Account) -> None:
        balance: AccountBalance | None = None
        if everything or "balance" in scopes:
            balance = await limited(lambda: data.balance(account.account_id, user=user))
        txns: list[Transaction] = []
        if everything or "transactions" in scopes:
            txns = await limited(
                lambda: data.transactions(account.account_id, from_=from_, to=to, user=user)
            )
        accounts[index] = AccountData(account=account, balance=balance, transactions=tuple(txns))

    async def one_card(index: int, card: Card) -> None:
        balance: CardBalance | None = None
        if everything or "balance" in scopes:
            balance = await limited(lambda: data.card_balance(card.account_id, user=user))
        card_txns: list[CardTransaction] = []
        if everything or "transactions" in scopes:
            card_txns = await limited(
                lambda: data.card_transactions(card.account_id, from_=from_, to=to, user=user)
            )
        cards[index] = CardData(card=card, balance=balance, transactions=tuple(card_txns))

    # Either side may be unsupported (501): a bank without cards, or a card-only bank
    # (Amex, Barclaycard) without accounts.
    account_list: list[Account] = []
    if everything or "accounts" in scopes:
        account_list = await _unless_unsupported(limited(lambda: data.accounts(user=user)))
    card_list: list[Card] = []
    if everything or "cards" in scopes:
        card_list = await _unless_unsupported(limited(lambda: data.cards(user=user)))
    # Each task fills its own slot, so results keep the API's order.
    accounts: list[AccountData | None] = [None] * len(account_list)
    cards: list[CardData | None] = [None] * len(card_list)
    async with anyio.create_task_group() as tg:
        for index, account in enumerate(account_list):
            tg.start_soon(one_account, index, account)
        for index, card in enumerate(card_list):
            tg.start_soon(one_card, index, card)
    return FetchAllResult(
        user=user,
        accounts=tuple(a for a in accounts if a is not None),
        cards=tuple(c for c in cards if c is not None),
    )
