"""Async iteration over TrueLayer's cursor-paged lists.

Every cursor-paged list (payment-link payments, mandates, merchant-account
transactions, Data API v3) is an :class:`AsyncPaginator`: ``async for item in ...``
walks every item, fetching one page at a time (memory stays at one page), and
``.pages()`` hands out whole pages. ``limit=`` caps the total number of items.

A paginator is lazy: nothing is sent until iteration starts, and each iteration starts
again from the first page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

import attrs

from .errors import InvalidParameterError

__all__ = ["AsyncPaginator", "Page"]

T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """One page of a cursor-paged list.

    Attributes:
        items: the page's items, in TrueLayer's order.
        next_cursor: the cursor of the next page; ``None`` on the last page.
    """

    items: tuple[T, ...]
    next_cursor: str | None = None


#: Fetches the page at a cursor (``None``: the first page).
FetchPage = Callable[[str | None], Awaitable[Page[T]]]


class AsyncPaginator(Generic[T]):
    """The items of a cursor-paged list, fetched a page at a time as you iterate.

    ::

        async for payment in tl.payment_links.payments(link_id):
            ...
        async for page in tl.payment_links.payments(link_id).pages():
            print(len(page.items), page.next_cursor)

    Iteration ends after the page without a ``next_cursor``, or after ``limit`` items.
    A cursor TrueLayer no longer accepts raises the API's error (``PaymentsApiError``,
    400) from the ``async for``; items already yielded stay yours.
    """

    def __init__(self, fetch_page: FetchPage[T], *, limit: int | None = None) -> None:
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise InvalidParameterError("limit must be an int or None")
        if limit is not None and limit < 0:
            raise InvalidParameterError("limit must be >= 0")
        self._fetch_page = fetch_page
        self._limit = limit

    def __repr__(self) -> str:
        return f"AsyncPaginator(limit={self._limit!r})"

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Each page in turn (the last one cut short to honour ``limit``)."""
        remaining = self._limit
        cursor: str | None = None
        while remaining is None or remaining > 0:
            page = await self._fetch_page(cursor)
            if remaining is not None:
                if len(page.items) > remaining:
                    page = Page(page.items[:remaining], page.next_cursor)
                remaining -= len(page.items)
            yield page
            previous, cursor = cursor, page.next_cursor or None
            if cursor is None or cursor == previous:
                return  # the last page (or a server repeating its cursor: no endless loop)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item
