"""Fixtures for the Data API v3 and Signup+ tests: the Payments tests' respx Session (a
fake clock its sleep moves on), and an emulator on a fixed fake clock."""

from __future__ import annotations

import pytest

from tests.support.emulator import START
from tests.support.signed_payments import key, napping, tl
from truelayer_async.testing import FakeClock, FakeTrueLayer

__all__ = ["fake", "key", "napping", "tl"]


@pytest.fixture
def fake() -> FakeTrueLayer:
    return FakeTrueLayer(clock=FakeClock(START))
