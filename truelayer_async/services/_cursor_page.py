"""The body of a cursor-paged Payments v3 list, decoded, and turned into a :class:`Page`;
:func:`paginate`, the paginator over such a list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Generic, TypeVar

import attrs

from ..pagination import AsyncPaginator, Page
from . import _payments_api as api

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["CursorPage", "paginate"]

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class _Pagination:
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class CursorPage(Generic[T]):
    """``{"items": [...], "pagination": {"next_cursor": ...}}``."""

    items: tuple[T, ...]
    pagination: _Pagination | None = None

    def page(self) -> Page[T]:
        """As a :class:`~truelayer_async.pagination.Page` (no cursor: the last page)."""
        cursor = None if self.pagination is None else self.pagination.next_cursor
        return Page(self.items, cursor or None)


def paginate(
    core: Core,
    call: api.Call[CursorPage[T]],
    ids: Mapping[str, str] | None = None,
    *,
    params: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
    limit: int | None = None,
) -> AsyncPaginator[T]:
    """``call``'s items, a page at a time: ``params`` on every page, plus the ``cursor``
    of the page before (nothing is sent until iteration starts)."""

    async def fetch_page(cursor: str | None) -> Page[T]:
        page_params = params if cursor is None else {**params, "cursor": cursor}
        body = await api.send(core, call, ids, params=page_params, headers=headers)
        return body.page()

    return AsyncPaginator(fetch_page, limit=limit)
