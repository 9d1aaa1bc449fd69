"""Test doubles for the SDK's injectable parts: a recording sleep, a failing store."""

from __future__ import annotations

from truelayer_async import MemoryTokenStore
from truelayer_async.tokens import TokenKey, TokenRecord

__all__ = ["FailingStore", "RecordingSleep"]


class RecordingSleep:
    """An instant ``sleep`` that remembers every delay it was asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class FailingStore(MemoryTokenStore):
    """A memory store that records every write and fails the next ``fail`` of them."""

    def __init__(self) -> None:
        super().__init__()
        self.fail = 0
        self.writes: list[TokenRecord] = []

    async def set(self, key: TokenKey, record: TokenRecord) -> None:
        self.writes.append(record)
        if self.fail:
            self.fail -= 1
            raise OSError("disk full")
        await super().set(key, record)
