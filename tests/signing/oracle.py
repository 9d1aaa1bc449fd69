"""TrueLayer's own ``truelayer-signing`` (a dev dependency) as an independent oracle.

Its API takes the body as ``str`` and headers as a dict; these helpers adapt it to the
bytes and header pairs our ``signing`` module uses. A body that is not UTF-8 cannot be
given to it, so :func:`official_verify_bytes` checks those with its ECDSA primitive over
a payload built here from the spec (§2.3) instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from tests.support.binaries import require_module


def official() -> ModuleType:
    """The ``truelayer_signing`` package (fails under CI when absent, skips elsewhere)."""
    return require_module("truelayer_signing")


def official_sign(
    *,
    kid: str,
    private_pem: str,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    jku: str | None = None,
) -> str:
    """A ``Tl-Signature`` made by TrueLayer's library (``body`` must be UTF-8)."""
    tl = official()
    signer = tl.sign_with_pem(kid, private_pem).set_method(method).set_path(path)
    signer = signer.add_headers(dict(headers)).set_body(body.decode("utf-8"))
    if jku is not None:
        signer = signer.set_jku(jku)
    value: str = signer.sign()
    return value


def official_verify(
    signature: str,
    *,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]] | Mapping[str, str],
    body: bytes,
    public_pem: str | None = None,
    jwks: Mapping[str, Any] | None = None,
    required_headers: Sequence[str] = (),
) -> None:
    """Verify with TrueLayer's library; raises its ``TlSigningException`` on failure."""
    tl = official()
    if jwks is not None:
        verifier = tl.verify_with_jwks(jwks, tl.extract_jws_header(signature))
    else:
        verifier = tl.verify_with_pem(public_pem)
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    verifier = verifier.set_method(method).set_path(path).add_headers(dict(pairs))
    verifier = verifier.add_required_headers(list(required_headers))
    verifier.set_body(body.decode("utf-8")).verify(signature)


def official_rejects(signature: str, **kwargs: Any) -> bool:
    """Whether TrueLayer's library refuses this signature over this request."""
    try:
        official_verify(signature, **kwargs)
    except official().errors.TlSigningException:
        return True
    return False


def official_verify_bytes(
    signature: str,
    *,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    public_pem: str,
) -> None:
    """For any body bytes: the library's ES512 check over a payload built from the spec."""
    tl = official()
    header_b64, _, signature_b64 = signature.partition("..")
    lines = [f"{method} {path}\n", *(f"{name}: {value}\n" for name, value in headers)]
    payload = "".join(lines).encode("utf-8") + body
    signing_input = header_b64.encode() + b"." + tl.utils.to_url_safe_base64(payload)
    raw = tl.utils.decode_url_safe_base64(signature_b64.encode())
    tl.crypto.Ec512.load_from_pem(public_pem.encode()).verify(raw, signing_input)


def official_verify_request(
    request: Any, *, public_pem: str, required_headers: Sequence[str] = ("Idempotency-Key",)
) -> None:
    """TrueLayer's library over an ``httpx.Request`` as sent: method, raw path without the
    query, headers and exact body bytes (raises ``TlSigningException`` on failure)."""
    official_verify(
        request.headers["Tl-Signature"],
        method=request.method,
        path=request.url.raw_path.split(b"?", 1)[0].decode("ascii"),
        headers=list(request.headers.items()),
        body=request.content,
        public_pem=public_pem,
        required_headers=required_headers,
    )
