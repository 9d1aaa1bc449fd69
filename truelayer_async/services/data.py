"""``tl.data``: the Data API v1 (placeholder until the data service lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["DataService"]


class DataService:
    """The Data API v1. Reached as ``tl.data``."""

    def __init__(self, session: Session) -> None:
        self._session = session
