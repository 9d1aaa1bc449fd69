"""Who may call a Payments endpoint: bearer tokens, ``Tl-Signature`` and idempotency.

* A client token (client-credentials, from ``/connect/token``) must hold one of the
  endpoint's scopes (403 ``Forbidden`` otherwise). A payment's resource token (minted at
  creation) is accepted only where truelayer-api-v3.md §1.2 lists it (GET payment, the
  authorization flow, cancel, save-user-account) and only for that payment (403).
* Signatures are checked with ``truelayer_async.signing.verify`` against the public keys
  registered for the caller's client, with ``Idempotency-Key`` required among the signed
  headers whenever the request carries one (always, on endpoints where the key is
  mandatory). Any failure, and a missing mandatory key: 401 ``Unauthenticated``,
  ``Invalid request signature.``
* ``IdempotencyStore``: keyed by (client, method, path, key); the same body replays the
  stored response, another body answers 422, a request still in progress 409.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ... import signing
from ...errors import SignatureVerificationError, TrueLayerError
from .._state import FakeState
from ._problems import PaymentsProblem

__all__ = [
    "Caller",
    "IdempotencyStore",
    "SigningKeys",
    "Stored",
    "authenticate",
    "check_signature",
]

BAD_SIGNATURE = "Invalid request signature."
#: Idempotency keys are kept this long (TrueLayer: 30 days).
KEY_TTL = 30 * 86_400.0
#: The claims binding a resource token to its resource.
RESOURCE_CLAIMS = ("payment_id", "payout_id", "mandate_id")


@attrs.frozen
class Caller:
    """The authenticated caller: a client, and the resource (payment, payout, mandate) a
    resource token is bound to (``payment_id``, whatever its kind)."""

    client_id: str
    scopes: frozenset[str]
    payment_id: str | None = None

    @property
    def is_resource_token(self) -> bool:
        return self.payment_id is not None


class SigningKeys:
    """Public keys registered per client, by ``kid`` (PEM text)."""

    def __init__(self) -> None:
        self._keys: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def register(self, client_id: str, key_id: str, public_pem: str) -> None:
        """Add (or replace) a key; ``ValueError`` when it is not a P-521 public key."""
        if not key_id:
            raise ValueError("key_id must not be empty")
        try:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import ec

            key = serialization.load_pem_public_key(public_pem.encode())
        except (ValueError, TypeError) as exc:
            raise ValueError("public_pem must be a PEM public key") from exc
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp521r1":
            raise ValueError("public_pem must be an EC P-521 (secp521r1) public key")
        with self._lock:
            self._keys.setdefault(client_id, {})[key_id] = public_pem

    def find(self, client_id: str, key_id: str) -> str | None:
        with self._lock:
            return self._keys.get(client_id, {}).get(key_id)


def authenticate(
    state: FakeState,
    authorization: str | None,
    *,
    scopes: Iterable[str],
    resource_token_ok: bool,
    payment_id: str | None,
    resource_claim: str = "payment_id",
) -> Caller:
    """The caller behind a ``Bearer`` header; raises ``PaymentsProblem`` (401/403). A
    resource token is accepted when it names ``payment_id`` (the path's resource id) in
    its ``resource_claim``."""
    if not authorization or authorization[:7].lower() != "bearer ":
        raise PaymentsProblem("unauthenticated", "Missing or malformed Authorization header.")
    claims = state.signer.read(authorization[7:].strip())
    if claims is None or claims["exp"] <= state.clock():
        raise PaymentsProblem("unauthenticated", "The access token is invalid or expired.")
    client_id = str(claims.get("client_id"))
    claim = next((name for name in RESOURCE_CLAIMS if name in claims), None)
    if claim is not None:
        if not resource_token_ok or claim != resource_claim:
            raise PaymentsProblem("forbidden", "A resource token cannot be used here.")
        if claims[claim] != payment_id:
            kind = claim.removesuffix("_id")
            raise PaymentsProblem("forbidden", f"The resource token is for another {kind}.")
        return Caller(client_id, frozenset(), str(claims[claim]))
    if state.client_tokens.get(claims["jti"]) != client_id:
        raise PaymentsProblem("unauthenticated", "The access token is not a client token.")
    held = frozenset(str(s) for s in claims.get("scope") or ())
    if not held & frozenset(scopes):
        wanted = " or ".join(scopes)
        raise PaymentsProblem("forbidden", f"The access token lacks the {wanted} scope.")
    return Caller(client_id, held)


def check_signature(
    keys: SigningKeys,
    client_id: str,
    *,
    method: str,
    path: str,
    body: bytes,
    headers: Iterable[tuple[str, str]],
) -> None:
    """Verify ``Tl-Signature`` (requiring ``Idempotency-Key`` among the signed headers
    when one was sent); 401 ``Unauthenticated`` when it does not verify."""
    pairs = list(headers)
    lower = {name.lower(): value for name, value in pairs}
    value = lower.get("tl-signature")
    if not value:
        raise PaymentsProblem("unauthenticated", BAD_SIGNATURE)
    required = ("Idempotency-Key",) if "idempotency-key" in lower else ()
    try:
        key_id = signing.parse_signature(value).kid
        pem = keys.find(client_id, key_id)
        if pem is None:
            raise PaymentsProblem("unauthenticated", BAD_SIGNATURE)
        signing.verify(
            value,
            method=method,
            path=path,
            body=body,
            headers=pairs,
            public_key=pem,
            required_headers=required,
        )
    except (SignatureVerificationError, TrueLayerError, ValueError):
        raise PaymentsProblem("unauthenticated", BAD_SIGNATURE) from None


@attrs.frozen
class Stored:
    """A response kept for replay."""

    status: int
    body: bytes
    content_type: str


@attrs.define
class _Entry:
    fingerprint: str
    created_at: float
    response: Stored | None = None


class IdempotencyStore:
    """Idempotency keys and their responses (guarded by ``state.lock``)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str, str], _Entry] = {}

    def begin(self, key: tuple[str, str, str, str], body: bytes, now: float) -> Stored | None:
        """The stored response to replay, or ``None`` after reserving ``key`` for this
        request; raises 409 (in progress) or 422 (another body)."""
        fingerprint = hashlib.sha256(body).hexdigest()
        entry = self._entries.get(key)
        if entry is not None and now - entry.created_at > KEY_TTL:
            entry = None
        if entry is None:
            self._entries[key] = _Entry(fingerprint, now)
            return None
        if entry.fingerprint != fingerprint:
            raise PaymentsProblem(
                "idempotency_reuse", "The Idempotency-Key was used for a different request."
            )
        if entry.response is None:
            raise PaymentsProblem(
                "idempotency_conflict", "A request with this Idempotency-Key is in progress."
            )
        return entry.response

    def finish(self, key: tuple[str, str, str, str], response: Stored | None) -> None:
        """Store the response (``None``: forget the key, e.g. after a crash)."""
        if response is None:
            self._entries.pop(key, None)
        else:
            self._entries[key].response = response


def header_pairs(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """ASGI headers as text pairs."""
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty mapping."""
    return value if isinstance(value, dict) else {}
