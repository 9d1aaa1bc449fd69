"""Fixtures shared by the whole suite: a fake wall clock, a recording sleep, a sentinel.

Helpers live in ``tests.support``; this file holds fixtures only.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.support.doubles import RecordingSleep
from truelayer_async.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """The public fake clock, started at the real time."""
    return FakeClock()


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def sentinel() -> str:
    """A secret-looking value to plant everywhere and scan for."""
    return "tlsecret_" + secrets.token_hex(12)


@pytest.fixture
def no_env_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("TRUELAYER_CLIENT_ID", "TRUELAYER_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    yield
