"""``tl.verification``: the Verification API v1 (placeholder until it lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["VerificationService"]


class VerificationService:
    """The Verification API. Reached as ``tl.verification``."""

    def __init__(self, session: Session) -> None:
        self._session = session
