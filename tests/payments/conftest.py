"""Fixtures for the Payments service tests: a Session with a real P-521 signing key whose
sleep advances the fake clock (``tests.support.signed_payments``, with the helpers to
check what went on the wire)."""

from __future__ import annotations

from tests.support.signed_payments import key, napping, tl

__all__ = ["key", "napping", "tl"]
