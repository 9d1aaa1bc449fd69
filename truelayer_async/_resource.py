"""``AsyncResource``: ``async with`` for anything with ``open()`` and ``aclose()``."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

__all__ = ["AsyncResource"]

R = TypeVar("R", bound="AsyncResource")


class AsyncResource:
    """``async with x:`` opens ``x`` (``open()``) and closes it on exit (``aclose()``).

    Subclasses implement ``aclose()`` and, if there is something to set up, ``open()``.
    """

    async def open(self) -> None:
        """Set the resource up (nothing by default)."""

    async def aclose(self) -> None:
        """Release the resource; safe to call twice."""
        raise NotImplementedError

    async def __aenter__(self: R) -> R:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
