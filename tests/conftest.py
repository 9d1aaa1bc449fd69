"""Fixtures shared by the whole suite: a fake wall clock, a recording sleep, a sentinel."""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Iterator

import pytest

from truelayer_async import MemoryTokenStore
from truelayer_async.tokens import TokenKey, TokenRecord


class FakeClock:
    """A wall clock (unix seconds) that only moves when told to."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSleep:
    """An instant ``sleep`` that remembers every delay it was asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def sentinel() -> str:
    """A secret-looking value to plant everywhere and scan for."""
    return "tlsecret_" + secrets.token_hex(12)


def require_binary(name: str) -> str:
    """Path of ``name``; under CI a missing binary fails the test instead of skipping it."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required in CI but is not installed")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture
def no_env_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("TRUELAYER_CLIENT_ID", "TRUELAYER_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    yield


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
