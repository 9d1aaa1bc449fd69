"""Fixtures for the payouts, merchant-account and mandate service tests: the Payments
tests' Session with a real P-521 signing key and a sleep that advances the fake clock
(``tests.support.signed_payments``)."""

from __future__ import annotations

from tests.support.signed_payments import key, napping, tl

__all__ = ["key", "napping", "tl"]
