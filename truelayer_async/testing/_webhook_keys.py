"""The emulator's webhook signing keys, their JWKS route, and deliberately bad signatures.

The emulator signs each webhook as TrueLayer does (ES512, ``tl_headers:
"x-tl-webhook-timestamp"``, ``jku`` = its own ``/.well-known/jwks``). Keys are P-521,
made on first use; ``rotate()`` adds a new current key and keeps the old one in the key
set. ``SIGNING_MODES`` name the ways tests can make a webhook fail verification.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .. import signing
from ._environment import KEY_SET_PATH

__all__ = ["KEY_SET_PATH", "SIGNING_MODES", "EmulatorSigningKeys", "SigningMode"]

TIMESTAMP_HEADER = "x-tl-webhook-timestamp"

#: ``valid``; ``forged`` (the current ``kid``, another key); ``unknown_kid``; ``stale``
#: (timestamp an hour old, validly signed); ``tampered`` (body changed after signing);
#: ``bad_jku`` (``jku`` off the allow-list); ``wrong_alg`` (header says RS512); ``unsigned``.
SigningMode = Literal[
    "valid", "forged", "unknown_kid", "stale", "tampered", "bad_jku", "wrong_alg", "unsigned"
]
SIGNING_MODES: tuple[str, ...] = SigningMode.__args__  # type: ignore[attr-defined]
STALE_SECONDS = 3600
FOREIGN_JKU = "https://webhooks.truelayer.com.evil.example/.well-known/jwks"


def _new_key() -> tuple[str, Any]:
    from cryptography.hazmat.primitives.asymmetric import ec

    return f"emulator-{uuid.uuid4()}", ec.generate_private_key(ec.SECP521R1())


def _pem(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    pem: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode()


class EmulatorSigningKeys:
    """The emulator's key set: the current key signs, every key is published."""

    def __init__(self) -> None:
        self._keys: list[tuple[str, Any]] = []

    def _current(self) -> tuple[str, Any]:
        if not self._keys:
            self._keys.append(_new_key())
        return self._keys[-1]

    @property
    def kid(self) -> str:
        """The current key's id."""
        return self._current()[0]

    def rotate(self) -> str:
        """Make a new current key (the old ones stay published); return its ``kid``."""
        self._keys.append(_new_key())
        return self._keys[-1][0]

    def jwks(self) -> dict[str, Any]:
        """The published key set."""
        self._current()
        return {
            "keys": [signing.jwk_from_public_key(k.public_key(), kid) for kid, k in self._keys]
        }

    def headers(
        self, path: str, body: bytes, timestamp: str, jku: str, mode: SigningMode = "valid"
    ) -> tuple[dict[str, str], bytes]:
        """The webhook headers (``Tl-Signature`` per ``mode``) and the body to send."""
        if mode not in SIGNING_MODES:
            raise ValueError(f"signing mode must be one of {SIGNING_MODES}")
        kid, key = self._current()
        if mode == "stale":
            timestamp = _earlier(timestamp, STALE_SECONDS)
        if mode in ("forged", "unknown_kid"):
            other_kid, key = _new_key()
            kid = other_kid if mode == "unknown_kid" else kid
        headers = {"X-TL-Webhook-Timestamp": timestamp}
        if mode == "unsigned":
            return headers, body
        value = signing.sign(
            key_id=kid,
            private_key=_pem(key),
            method="POST",
            path=path,
            body=body,
            headers={TIMESTAMP_HEADER: timestamp},
            jku=FOREIGN_JKU if mode == "bad_jku" else jku,
        )
        if mode == "wrong_alg":
            value = _with_alg(value, "RS512")
        headers["Tl-Signature"] = value
        if mode == "tampered":
            body = body.replace(b"}", b',"tampered":true}', 1) if body else b"{}"
        return headers, body


def _earlier(timestamp: str, seconds: int) -> str:
    from datetime import datetime, timedelta

    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00")) - timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _with_alg(value: str, alg: str) -> str:
    header_b64, _, sig = value.partition("..")
    jose = json.loads(signing.b64url_decode(header_b64))
    jose["alg"] = alg
    return f"{signing.b64url_encode(json.dumps(jose).encode())}..{sig}"


def routes(keys: EmulatorSigningKeys) -> list[BaseRoute]:
    """``GET /.well-known/jwks``: the emulator's webhook key set."""

    async def jwks(request: Request) -> Response:
        return Response(
            json.dumps(keys.jwks()),
            media_type="application/json",
            headers={"Cache-Control": "max-age=1800"},
        )

    return [Route(KEY_SET_PATH, jwks, methods=["GET"])]
