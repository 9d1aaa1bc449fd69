"""The body of a cursor-paged Payments v3 list, decoded, and turned into a :class:`Page`."""

from __future__ import annotations

from typing import Generic, TypeVar

import attrs

from ..pagination import Page

__all__ = ["CursorPage"]

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
