"""The Payments request signer: a ``Tl-Signature`` for each attempt, from one loaded key.

The key is loaded (and checked to be P-521) once, when the Session is built, so a bad
key fails at construction and no request pays for parsing PEM. Each attempt is signed
over the exact bytes it sends (the request layer encodes the body once), with
``Idempotency-Key`` among the signed headers whenever the request carries one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ._request import Attempt
from ._secret import Secret
from .errors import ConfigurationError
from .signing import load_private_key, sign_with_key

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["SIGNED_HEADERS", "RequestSigner"]

#: Headers signed when present, in this order (TrueLayer requires the first).
SIGNED_HEADERS = ("Idempotency-Key",)


class RequestSigner:
    """A per-attempt hook adding ``Tl-Signature`` (see ``_request.AttemptHook``)."""

    __slots__ = ("_key", "key_id")

    def __init__(self, key_id: str, private_key: Secret) -> None:
        if not isinstance(key_id, str) or not key_id.strip():
            raise ConfigurationError("signing_key_id must be a non-empty string")
        self.key_id = key_id
        self._key: ec.EllipticCurvePrivateKey = load_private_key(private_key)

    def __repr__(self) -> str:
        return f"RequestSigner(key_id={self.key_id!r})"

    def __call__(self, attempt: Attempt) -> Mapping[str, str]:
        headers = attempt.headers
        pairs = [(name, headers[name]) for name in SIGNED_HEADERS if name in headers]
        signature = sign_with_key(
            self._key, self.key_id, attempt.method, attempt.path, pairs, attempt.body
        )
        return {"Tl-Signature": signature}
