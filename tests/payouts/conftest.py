"""Fixtures for the payouts, merchant-account and mandate service tests: the Payments
tests' Session with a real P-521 signing key and a sleep that advances the fake clock."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.payments.conftest import key, napping, tl

__all__ = ["key", "napping", "pem_of", "tl"]


def pem_of(key: ec.EllipticCurvePrivateKey) -> str:
    """``key`` as an unencrypted PKCS#8 PEM, as ``Session(signing_private_key=)`` takes."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
