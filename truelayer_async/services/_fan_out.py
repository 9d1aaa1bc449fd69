"""``fetch_all``: many users' data at once, with bounded concurrency and per-user errors."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import attrs

from .. import errors as e
from .._core import UserToken
from ..models import Account, AccountBalance, Card, CardBalance, CardTransaction, Transaction

if TYPE_CHECKING:
    from .data import DataService, DateLike

__all__ = ["AccountData", "CardData", "FetchAllResult", "Progress", "fetch_all"]

T = TypeVar("T")
MAX_CONCURRENCY = 64  # the Session's default pool (max_connections) holds this many


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


async def fetch_all(
    data: DataService,
    users: Sequence[str | None],
    *,
    from_: DateLike | None,
    to: DateLike | None,
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
    ``concurrency`` is held to the Session's ``max_connections`` (its own client's pool).
    """
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise e.InvalidParameterError(f"concurrency must be between 1 and {MAX_CONCURRENCY}")
    pool = data._core.max_connections
    if pool is not None:  # more would only queue for a connection (under the pool timeout)
        concurrency = min(concurrency, pool)
    limiter = anyio.CapacityLimiter(concurrency)
    # Started all at once, every user would share the request slots round-robin and
    # none would finish until nearly all had (progress stuck, then one jump).
    user_window = anyio.CapacityLimiter(concurrency)
    results: list[FetchAllResult | None] = [None] * len(users)
    done = 0

    async def limited(call: Callable[[], Awaitable[T]]) -> T:
        async with limiter:
            return await call()

    async def one_user(index: int, user: str | None) -> None:
        nonlocal done
        try:
            async with user_window:
                result = await _fetch_user(data, user, (from_, to), limited)
        except e.TrueLayerError as exc:
            result = FetchAllResult(user=user, error=exc)
        results[index] = result
        done += 1
        if on_progress is not None:
            outcome = on_progress(Progress(done=done, total=len(users), user=user, ok=result.ok))
            if inspect.isawaitable(outcome):
                await outcome

    async with anyio.create_task_group() as tg:
        for index, user in enumerate(users):
            tg.start_soon(one_user, index, user)
    return [r for r in results if r is not None]


Limited = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]


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
