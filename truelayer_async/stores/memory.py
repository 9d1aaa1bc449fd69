"""The default token store: a dict in this process."""

from __future__ import annotations

from ..errors import StoreConflictError
from ..tokens import TokenKey, TokenRecord

__all__ = ["MemoryTokenStore"]


class MemoryTokenStore:
    """Keeps tokens in memory; they are gone when the process exits.

    Safe for any number of tasks in one event loop: each call completes without yielding,
    so compare-and-set is atomic.
    """

    def __init__(self) -> None:
        self._records: dict[TokenKey, TokenRecord] = {}

    def __repr__(self) -> str:
        return f"MemoryTokenStore({len(self._records)} records)"

    async def get(self, key: TokenKey) -> TokenRecord | None:
        """The record stored under ``key``, if any."""
        return self._records.get(key)

    async def set(self, key: TokenKey, record: TokenRecord) -> None:
        """Store ``record`` if the stored version is ``record.version - 1``."""
        current = self._records.get(key)
        current_version = 0 if current is None else current.version
        if current_version != record.version - 1:
            raise StoreConflictError(
                f"version conflict: stored {current_version}, writing {record.version}"
            )
        self._records[key] = record

    async def delete(self, key: TokenKey) -> None:
        """Remove the record under ``key``."""
        self._records.pop(key, None)
