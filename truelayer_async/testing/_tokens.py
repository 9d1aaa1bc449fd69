"""Minting and checking the emulator's JWT access tokens (HS256, per-instance key)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import jwt

__all__ = ["TokenSigner"]

_KID = "truelayer-fake-1"


class TokenSigner:
    """Signs access tokens with a random key that never leaves this process.

    Tokens carry TrueLayer's claims (``exp``, ``iat``, ``nbf``, ``iss``, ``aud`` =
    ``data_api``, ``scope`` as a JSON array, ``client_id``, ``sub`` = credentials id,
    ``connector_id``, ``consent_id``, ``jti``, …) with header ``typ`` = ``at+jwt``. Time
    claims are *not* checked here: the emulator checks them against its own clock.
    """

    def __init__(self) -> None:
        self._key = secrets.token_bytes(64)

    def mint(self, claims: dict[str, Any]) -> tuple[str, str]:
        """Sign ``claims`` plus a fresh ``jti``; returns ``(token, jti)``."""
        jti = uuid.uuid4().hex.upper()
        payload = {**claims, "jti": jti}
        token = jwt.encode(
            payload, self._key, algorithm="HS256", headers={"typ": "at+jwt", "kid": _KID}
        )
        return token, jti

    def read(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this signer made, or ``None`` if it is not one."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError:
            return None
        if not isinstance(claims.get("jti"), str) or not isinstance(claims.get("exp"), int):
            return None
        return claims
