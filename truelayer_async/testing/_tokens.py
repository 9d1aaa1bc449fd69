"""Minting and checking the emulator's JWT access tokens (HS256, per-instance key)."""

from __future__ import annotations

import secrets
import threading
import uuid
from typing import Any

import jwt

__all__ = ["TokenSigner"]

_KID = "truelayer-fake-1"
#: How many verified tokens ``read`` remembers (oldest forgotten first).
MEMO_SIZE = 10_000


class TokenSigner:
    """Signs access tokens with a random key that never leaves this process.

    Tokens carry TrueLayer's claims (``exp``, ``iat``, ``nbf``, ``iss``, ``aud`` =
    ``data_api``, ``scope`` as a JSON array, ``client_id``, ``sub`` = credentials id,
    ``connector_id``, ``consent_id``, ``jti``, …) with header ``typ`` = ``at+jwt``. Time
    claims are *not* checked here: the emulator checks them against its own clock.

    A token's claims never change, so ``read`` verifies each token once and remembers its
    claims (the newest ``MEMO_SIZE`` tokens): every later request with the same token is a
    dictionary lookup instead of an HMAC check and two base64/JSON decodes.
    """

    def __init__(self) -> None:
        self._key = secrets.token_bytes(64)
        self._verified: dict[str, dict[str, Any]] = {}
        self._memo_lock = threading.Lock()

    def mint(self, claims: dict[str, Any]) -> tuple[str, str]:
        """Sign ``claims`` plus a fresh ``jti``; returns ``(token, jti)``."""
        jti = uuid.uuid4().hex.upper()
        payload = {**claims, "jti": jti}
        token = jwt.encode(
            payload, self._key, algorithm="HS256", headers={"typ": "at+jwt", "kid": _KID}
        )
        return token, jti

    def read(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this signer made (a fresh copy), or ``None`` if it is not
        one."""
        with self._memo_lock:
            known = self._verified.get(token)
        if known is not None:
            return dict(known)
        claims = self._verify(token)
        if claims is not None:
            with self._memo_lock:
                if len(self._verified) >= MEMO_SIZE:
                    del self._verified[next(iter(self._verified))]
                self._verified[token] = claims
            return dict(claims)
        return None

    def _verify(self, token: str) -> dict[str, Any] | None:
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
