"""Fresh request-signing keys (EC P-521, as TrueLayer's Payments API wants them)."""

from __future__ import annotations

import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["new_key", "pem_of"]


def new_key() -> tuple[str, str, str]:
    """``(key_id, private_pem, public_pem)`` of a fresh EC P-521 key."""
    key = ec.generate_private_key(ec.SECP521R1())
    private = pem_of(key)
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return f"kid-{uuid.uuid4()}", private, public


def pem_of(key: ec.EllipticCurvePrivateKey) -> str:
    """``key`` as an unencrypted PKCS#8 PEM, as ``Session(signing_private_key=)`` takes."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
