"""TrueLayer request signing: ``Tl-Signature`` (JWS ES512, detached payload, ``tl_version`` 2).

The signed payload is ``METHOD PATH\\n``, then ``Name: value\\n`` for each header named in
``tl_headers`` (in that order, names spelled as in ``tl_headers``), then the exact body
bytes. The header value is ``b64url(jose) + ".." + b64url(r || s)`` with ``r`` and ``s``
each 66 bytes (P-521).

:func:`sign` makes a signature (what the Payments request hook calls for each attempt);
:func:`verify` checks one against a public key or a JWKS (for webhooks, and for users'
own tests); :func:`verify_request` does the same for an ``httpx.Request``. They need the
``[crypto]`` extra (``cryptography``), imported on first use.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import attrs
import httpx

from ._secret import Secret
from .errors import ConfigurationError, InvalidParameterError, SignatureVerificationError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

__all__ = [
    "ALGORITHM",
    "JoseHeader",
    "b64url_decode",
    "b64url_encode",
    "jwk_from_public_key",
    "key_from_jwks",
    "parse_signature",
    "public_key_from_jwk",
    "sign",
    "signing_payload",
    "verify",
    "verify_request",
]

ALGORITHM = "ES512"
TL_VERSION = "2"
#: Bytes in each of ``r`` and ``s`` for P-521, and in a JWK coordinate.
COORDINATE_BYTES = 66
SIGNATURE_BYTES = 2 * COORDINATE_BYTES
#: A Tl-Signature longer than this is refused before decoding anything.
MAX_SIGNATURE_CHARS = 8192

Headers: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


@attrs.frozen
class JoseHeader:
    """The decoded JOSE header of a ``Tl-Signature`` (not yet verified).

    Attributes:
        alg: always ``"ES512"`` once parsed (anything else is refused).
        kid: the signing key's id.
        tl_headers: the signed header names, in order, spelled as signed.
        jku: the key-set URL (webhook signatures only).
    """

    alg: str
    kid: str
    tl_headers: tuple[str, ...]
    jku: str | None = None


@functools.cache  # imported once; an ImportError is not cached, so it is raised each time
def _crypto() -> Any:
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, utils
    except ImportError:  # pragma: no cover - exercised with the extra uninstalled
        raise ConfigurationError(
            "Tl-Signature needs the 'cryptography' package: pip install 'truelayer-async[crypto]'"
        ) from None
    return _Crypto(ec, hashes, serialization, utils, InvalidSignature)


@attrs.frozen
class _Crypto:
    ec: Any
    hashes: Any
    serialization: Any
    utils: Any
    InvalidSignature: Any


def b64url_encode(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding; raises ``ValueError`` on anything else."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def _header_pairs(headers: Headers) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(name), str(value)) for name, value in items]


def signing_payload(
    method: str, path: str, headers: Iterable[tuple[str, str]], body: bytes
) -> bytes:
    """The detached payload: ``METHOD PATH\\n`` + ``Name: value\\n``… + ``body``."""
    lines = [f"{method.upper()} {path}\n"]
    lines.extend(f"{name}: {value}\n" for name, value in headers)
    return "".join(lines).encode("utf-8") + body


def _check_path(path: str, error: type[Exception]) -> None:
    if not isinstance(path, str) or not path.startswith("/") or "?" in path or "#" in path:
        raise error("path must be the absolute request path, e.g. '/v3/payments', no query")


def _check_body(body: object) -> None:
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(
            "body must be the exact bytes sent or received (a str or a parsed dict would be "
            f"re-serialised and break the signature), got {type(body).__name__}"
        )


def _load_private_key(pem: Secret) -> ec.EllipticCurvePrivateKey | None:
    crypto = _crypto()
    try:
        key = crypto.serialization.load_pem_private_key(
            pem.get_secret_value().encode(), password=None
        )
    except Exception:
        return None
    if not isinstance(key, crypto.ec.EllipticCurvePrivateKey) or not isinstance(
        key.curve, crypto.ec.SECP521R1
    ):
        return None
    return cast("ec.EllipticCurvePrivateKey", key)


def sign(
    *,
    key_id: str,
    private_key: str | Secret,
    method: str,
    path: str,
    body: bytes = b"",
    headers: Headers = (),
    jku: str | None = None,
) -> str:
    """Sign one request and return the ``Tl-Signature`` header value.

    Every header in ``headers`` is signed, in the order given, with its name spelled as
    given (pass ``{"Idempotency-Key": key}`` for Payments requests). ``private_key`` is
    the EC P-521 private key in PEM (SEC1 or PKCS#8). ``jku`` is only for webhook
    signatures (the emulator's).

    Raises:
        ConfigurationError: the key is not an unencrypted P-521 private key in PEM, or
            ``cryptography`` is not installed.
        InvalidParameterError: a bad path, header name or value.
        TypeError: ``body`` is not bytes.
    """
    secret = Secret.of(private_key)
    del private_key  # only the redacted Secret stays in this frame
    _check_body(body)
    _check_path(path, InvalidParameterError)
    if not isinstance(key_id, str) or not key_id:
        raise InvalidParameterError("key_id must be a non-empty string")
    pairs = _header_pairs(headers)
    for name, value in pairs:
        if not _HEADER_NAME.fullmatch(name):
            raise InvalidParameterError(f"cannot sign header name {name!r}")
        if "\n" in value or "\r" in value:
            raise InvalidParameterError(f"the value of header {name} holds a line break")
    return sign_with_key(
        load_private_key(secret), key_id, method, path, pairs, bytes(body), jku=jku
    )


def load_private_key(pem: Secret) -> ec.EllipticCurvePrivateKey:
    """The P-521 private key in ``pem``; ``ConfigurationError`` for anything else."""
    key = _load_private_key(pem)
    if key is None:
        raise ConfigurationError(
            "signing_private_key must be an unencrypted EC P-521 (secp521r1) private key in PEM"
        )
    return key


def sign_with_key(
    key: ec.EllipticCurvePrivateKey,
    key_id: str,
    method: str,
    path: str,
    pairs: list[tuple[str, str]],
    body: bytes,
    *,
    jku: str | None = None,
) -> str:
    """``sign`` with a loaded key and checked inputs (the request signer's fast path)."""
    jose: dict[str, str] = {
        "alg": ALGORITHM,
        "kid": key_id,
        "tl_version": TL_VERSION,
        "tl_headers": ",".join(name for name, _ in pairs),
    }
    if jku is not None:
        jose["jku"] = jku
    header_b64 = b64url_encode(json.dumps(jose, separators=(",", ":")).encode())
    payload = signing_payload(method, path, pairs, body)
    signing_input = f"{header_b64}.{b64url_encode(payload)}".encode("ascii")
    crypto = _crypto()
    der = key.sign(signing_input, crypto.ec.ECDSA(crypto.hashes.SHA512()))
    r, s = crypto.utils.decode_dss_signature(der)
    raw = r.to_bytes(COORDINATE_BYTES, "big") + s.to_bytes(COORDINATE_BYTES, "big")
    return f"{header_b64}..{b64url_encode(raw)}"


def _refuse(message: str, reason: str) -> SignatureVerificationError:
    return SignatureVerificationError(message, reason=reason)


def _split(signature: str) -> tuple[str, bytes, dict[str, Any]]:
    """``(header_b64, raw_signature, jose)``; raises on any malformation."""
    if not isinstance(signature, str) or len(signature) > MAX_SIGNATURE_CHARS:
        raise _refuse("Tl-Signature is missing or too long", "malformed")
    header_b64, sep, sig_b64 = signature.partition("..")
    if not sep or "." in sig_b64 or "." in header_b64:
        raise _refuse("Tl-Signature is not a JWS with a detached payload", "malformed")
    try:
        jose = json.loads(b64url_decode(header_b64))
        raw = b64url_decode(sig_b64)
    except ValueError:
        jose = raw = None
    if not isinstance(jose, dict) or raw is None:
        raise _refuse("Tl-Signature's header or signature cannot be decoded", "malformed")
    return header_b64, raw, jose


def _jose_header(jose: Mapping[str, Any]) -> JoseHeader:
    if jose.get("alg") != ALGORITHM:
        raise _refuse("Tl-Signature's alg is not ES512", "algorithm")
    if jose.get("tl_version") != TL_VERSION:
        raise _refuse('Tl-Signature\'s tl_version is not "2"', "algorithm")
    kid, tl_headers, jku = jose.get("kid"), jose.get("tl_headers"), jose.get("jku")
    if not isinstance(kid, str) or not kid or not isinstance(tl_headers, str):
        raise _refuse("Tl-Signature's header lacks kid or tl_headers", "malformed")
    if jku is not None and not isinstance(jku, str):
        raise _refuse("Tl-Signature's jku is not a string", "malformed")
    names = tuple(name.strip() for name in tl_headers.split(",") if name.strip())
    return JoseHeader(alg=ALGORITHM, kid=kid, tl_headers=names, jku=jku)


def parse_signature(signature: str) -> JoseHeader:
    """Decode a ``Tl-Signature``'s JOSE header without verifying anything.

    Raises:
        SignatureVerificationError: malformed, ``alg`` not ES512, or ``tl_version`` not 2.
    """
    return _jose_header(_split(signature)[2])


def _coordinate(jwk: Mapping[str, Any], name: str) -> int:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise ValueError(f"JWK lacks {name}")
    data = b64url_decode(value)
    if len(data) > COORDINATE_BYTES:
        raise ValueError(f"JWK {name} is too long")
    # Some published keys drop a leading zero byte: left-pad to 66 bytes (same integer).
    return int.from_bytes(data.rjust(COORDINATE_BYTES, b"\0"), "big")


def public_key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """An EC P-521 public key from a JWK (``kty`` EC, ``crv`` P-521, ``alg`` absent or ES512).

    Raises:
        ValueError: the JWK is not a usable P-521 public key.
    """
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-521":
        raise ValueError("JWK is not an EC P-521 key")
    if jwk.get("alg") not in (None, ALGORITHM):
        raise ValueError("JWK alg is not ES512")
    crypto = _crypto()
    numbers = crypto.ec.EllipticCurvePublicNumbers(
        _coordinate(jwk, "x"), _coordinate(jwk, "y"), crypto.ec.SECP521R1()
    )
    try:
        key: ec.EllipticCurvePublicKey = numbers.public_key()
    except ValueError:
        raise ValueError("JWK point is not on P-521") from None
    return key


def jwk_from_public_key(public_key: ec.EllipticCurvePublicKey, kid: str) -> dict[str, str]:
    """The JWK (``kty``, ``alg``, ``kid``, ``crv``, ``x``, ``y``) for a P-521 public key."""
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "alg": ALGORITHM,
        "kid": kid,
        "crv": "P-521",
        "x": b64url_encode(numbers.x.to_bytes(COORDINATE_BYTES, "big")),
        "y": b64url_encode(numbers.y.to_bytes(COORDINATE_BYTES, "big")),
        "use": "sig",
    }


def _public_key_from_pem(pem: str | bytes) -> ec.EllipticCurvePublicKey:
    crypto = _crypto()
    try:
        key = crypto.serialization.load_pem_public_key(
            pem.encode() if isinstance(pem, str) else pem
        )
    except ValueError:
        key = None
    if not isinstance(key, crypto.ec.EllipticCurvePublicKey) or not isinstance(
        key.curve, crypto.ec.SECP521R1
    ):
        raise ConfigurationError("public_key must be an EC P-521 public key in PEM")
    return cast("ec.EllipticCurvePublicKey", key)


def key_from_jwks(jwks: Mapping[str, Any], kid: str) -> ec.EllipticCurvePublicKey | None:
    """The P-521 key with this ``kid`` in a JWKS (other entries are ignored), or ``None``.

    Raises:
        SignatureVerificationError: the entry with this ``kid`` is not a usable P-521 key.
    """
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list):
        return None
    for jwk in keys:
        if isinstance(jwk, Mapping) and jwk.get("kid") == kid:
            try:
                return public_key_from_jwk(jwk)
            except ValueError:
                pass  # leave the except block: nothing to chain
            raise _refuse(f"key {kid} in the key set is not an EC P-521 key", "key")
    return None


#: Headers ``verify_request`` never reads (TrueLayer never signs them; they hold secrets).
_CREDENTIALS = frozenset({"authorization", "proxy-authorization", "cookie"})


def _toggle_trailing_slash(path: str) -> str:
    return path[:-1] if path.endswith("/") and path != "/" else path + "/"


def verify(
    signature: str,
    *,
    method: str,
    path: str,
    body: bytes,
    headers: Headers = (),
    public_key: str | bytes | ec.EllipticCurvePublicKey | None = None,
    jwks: Mapping[str, Any] | None = None,
    required_headers: Iterable[str] = (),
) -> JoseHeader:
    """Verify a ``Tl-Signature`` over a request; return its JOSE header.

    Give the key as ``public_key`` (PEM or a loaded key) or as ``jwks`` (the entry whose
    ``kid`` matches is used). ``headers`` are the headers as received: names are matched
    case-insensitively. Every name in ``required_headers`` must be among the signed ones.
    As TrueLayer's verifiers do, a failing check is retried once with the path's trailing
    slash toggled.

    Raises:
        SignatureVerificationError: malformed, wrong ``alg``, unknown ``kid``, a signed
            header missing, a required header unsigned, or a signature that does not verify.
        TypeError: ``body`` is not bytes.
    """
    _check_body(body)
    _check_path(path, InvalidParameterError)
    header_b64, raw, jose = _split(signature)
    header = _jose_header(jose)
    key = _pick_key(header.kid, public_key, jwks)
    payload_headers = _signed_headers(header, headers, required_headers)
    if len(raw) != SIGNATURE_BYTES:
        raise _refuse("Tl-Signature does not verify", "invalid")
    for candidate in (path, _toggle_trailing_slash(path)):
        payload = signing_payload(method, candidate, payload_headers, bytes(body))
        if _valid(key, header_b64, payload, raw):
            return header
    raise _refuse("Tl-Signature does not verify over this request", "invalid")


def _pick_key(
    kid: str,
    public_key: str | bytes | ec.EllipticCurvePublicKey | None,
    jwks: Mapping[str, Any] | None,
) -> ec.EllipticCurvePublicKey:
    if (public_key is None) == (jwks is None):
        raise ConfigurationError("give exactly one of public_key= or jwks=")
    if jwks is not None:
        key = key_from_jwks(jwks, kid)
        if key is None:
            raise _refuse(f"no key with kid {kid!r} in the key set", "unknown_kid")
        return key
    if isinstance(public_key, (str, bytes)):
        return _public_key_from_pem(public_key)
    assert public_key is not None
    return public_key


def _signed_headers(
    header: JoseHeader, received: Headers, required: Iterable[str]
) -> list[tuple[str, str]]:
    lookup = {name.lower(): value for name, value in _header_pairs(received)}
    signed = {name.lower() for name in header.tl_headers}
    for name in required:
        if name.lower() not in signed:
            raise _refuse(f"header {name} must be signed but is not", "required_header")
    pairs = []
    for name in header.tl_headers:
        value = lookup.get(name.lower())
        if value is None:
            raise _refuse(f"signed header {name} is missing from the request", "missing_header")
        pairs.append((name, value))
    return pairs


def _valid(key: ec.EllipticCurvePublicKey, header_b64: str, payload: bytes, raw: bytes) -> bool:
    crypto = _crypto()
    signing_input = f"{header_b64}.{b64url_encode(payload)}".encode("ascii")
    r = int.from_bytes(raw[:COORDINATE_BYTES], "big")
    s = int.from_bytes(raw[COORDINATE_BYTES:], "big")
    der = crypto.utils.encode_dss_signature(r, s)
    try:
        key.verify(der, signing_input, crypto.ec.ECDSA(crypto.hashes.SHA512()))
    except crypto.InvalidSignature:
        return False
    return True


def verify_request(
    request: httpx.Request,
    *,
    public_key: str | bytes | ec.EllipticCurvePublicKey | None = None,
    jwks: Mapping[str, Any] | None = None,
    required_headers: Iterable[str] = ("Idempotency-Key",),
) -> JoseHeader:
    """Verify the ``Tl-Signature`` of an outgoing ``httpx.Request``; return its JOSE header.

    For your own tests: it checks what TrueLayer would, over the request's method, its
    path as sent (``request.url.raw_path`` without the query), its headers and its exact
    body bytes. Give the public half of your signing key as ``public_key`` (PEM) or
    ``jwks``. By default ``Idempotency-Key`` must be among the signed headers, as
    TrueLayer requires on Payments requests; pass ``required_headers=()`` to drop that.

    Example, a respx side effect that refuses a badly signed Payments request::

        def check_signature(request: httpx.Request) -> httpx.Response:
            signing.verify_request(request, public_key=PUBLIC_PEM)
            return httpx.Response(201, json={"id": "p-1", "status": "authorization_required"})

        respx_mock.post(f"{api_url}/v3/payments").mock(side_effect=check_signature)

    Raises:
        SignatureVerificationError: no ``Tl-Signature`` header (``reason`` ``malformed``),
            a signed header sent more than once (``malformed``), or any failure of
            :func:`verify`.
        InvalidParameterError: the request's body is a stream that was not read.
    """
    signature = request.headers.get("Tl-Signature")
    method, raw_path = request.method, request.url.raw_path
    pairs = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _CREDENTIALS]
    try:
        body: bytes | None = request.content
    except httpx.RequestNotRead:
        body = None
    del request  # its bearer token stays out of this frame's locals from here on
    if body is None:
        raise InvalidParameterError("the request's body is a stream: call request.read() first")
    if signature is None:
        raise _refuse("the request carries no Tl-Signature header", "malformed")
    signed = {name.lower() for name in parse_signature(signature).tl_headers}
    headers = [(name, value) for name, value in pairs if name.lower() in signed]
    if len({name.lower() for name, _ in headers}) != len(headers):
        raise _refuse("a signed header is sent more than once", "malformed")
    return verify(
        signature,
        method=method,
        path=raw_path.split(b"?", 1)[0].decode("ascii"),
        body=body,
        headers=headers,
        public_key=public_key,
        jwks=jwks,
        required_headers=required_headers,
    )
