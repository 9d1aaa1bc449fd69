"""Fixtures for the payouts, merchant-account and mandate service tests: the Payments
tests' Session with a real P-521 signing key and a sleep that advances the fake clock."""

from __future__ import annotations

from tests.payments.conftest import key, napping, tl

__all__ = ["key", "napping", "tl"]
