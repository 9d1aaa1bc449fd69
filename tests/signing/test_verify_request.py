"""``signing.verify_request``: a request's ``Tl-Signature`` checked over what httpx sends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from tests.secret_scan import assert_no_secret_anywhere
from tests.support.signing_vectors import JWKS, KID, PRIVATE_PEM, PUBLIC_PEM
from truelayer_async import signing
from truelayer_async.errors import InvalidParameterError, SignatureVerificationError

from .oracle import official_rejects, official_verify_request

API = "https://api.truelayer-sandbox.com"
BEARER = "Bearer cc-SENTINEL-7f3a"


def signed_request(
    url: str = f"{API}/v3/payments?page=2",
    *,
    body: bytes = b'{"amount_in_minor":100,"reference":"caf\xc3\xa9"}',
    signed_path: str = "/v3/payments",
    signed_headers: tuple[tuple[str, str], ...] = (("Idempotency-Key", "idem-1"),),
    sent_headers: tuple[tuple[str, str], ...] = (("idempotency-key", "idem-1"),),
    signed_body: bytes | None = None,
) -> httpx.Request:
    """A POST as httpx would send it, signed with the §2.11 test key."""
    signature = signing.sign(
        key_id=KID,
        private_key=PRIVATE_PEM,
        method="POST",
        path=signed_path,
        headers=signed_headers,
        body=body if signed_body is None else signed_body,
    )
    headers = [*sent_headers, ("Authorization", BEARER), ("Tl-Signature", signature)]
    return httpx.Request("POST", url, headers=headers, content=body)


def test_a_signed_request_verifies_without_its_query_and_on_the_official_library() -> None:
    request = signed_request()
    header = signing.verify_request(request, public_key=PUBLIC_PEM)
    assert header.kid == KID and header.tl_headers == ("Idempotency-Key",)
    assert signing.verify_request(request, jwks=JWKS).kid == KID
    official_verify_request(request, public_pem=PUBLIC_PEM)


def test_the_path_is_checked_as_sent_percent_encoding_included() -> None:
    url = f"{API}/v3/payments/p%2F1/actions/cancel"
    good = signed_request(url, signed_path="/v3/payments/p%2F1/actions/cancel")
    signing.verify_request(good, public_key=PUBLIC_PEM)
    official_verify_request(good, public_pem=PUBLIC_PEM)
    decoded = signed_request(url, signed_path="/v3/payments/p/1/actions/cancel")
    with pytest.raises(SignatureVerificationError) as info:
        signing.verify_request(decoded, public_key=PUBLIC_PEM)
    assert info.value.reason == "invalid"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"signed_body": b'{"amount_in_minor":100}'}, "invalid"),
        ({"signed_path": "/v3/payouts"}, "invalid"),
        ({"sent_headers": (("Idempotency-Key", "idem-2"),)}, "invalid"),
        ({"sent_headers": ()}, "missing_header"),
        ({"signed_headers": (), "sent_headers": ()}, "required_header"),
    ],
    ids=["body", "path", "header-value", "header-dropped", "key-unsigned"],
)
def test_a_tampered_request_fails_here_and_on_the_official_library_without_leaking(
    change: dict[str, object], reason: str
) -> None:
    request = signed_request(**change)  # type: ignore[arg-type]
    with pytest.raises(SignatureVerificationError) as info:
        signing.verify_request(request, public_key=PUBLIC_PEM)
    assert info.value.reason == reason
    assert_no_secret_anywhere(info.value, BEARER)
    path = request.url.raw_path.split(b"?")[0].decode()
    assert official_rejects(
        request.headers["Tl-Signature"],
        method="POST",
        path=path,
        headers=list(request.headers.items()),
        body=request.content,
        public_pem=PUBLIC_PEM,
        required_headers=["Idempotency-Key"],
    )


def test_required_headers_can_be_relaxed() -> None:
    request = signed_request(signed_headers=(), sent_headers=())
    assert (
        signing.verify_request(request, public_key=PUBLIC_PEM, required_headers=()).tl_headers
        == ()
    )


def test_a_request_without_a_signature_or_with_a_doubled_signed_header_is_malformed() -> None:
    unsigned = httpx.Request("POST", f"{API}/v3/payments", content=b"{}")
    with pytest.raises(SignatureVerificationError, match="no Tl-Signature") as info:
        signing.verify_request(unsigned, public_key=PUBLIC_PEM)
    assert info.value.reason == "malformed"
    doubled = signed_request(
        sent_headers=(("Idempotency-Key", "idem-1"), ("idempotency-key", "x"))
    )
    with pytest.raises(SignatureVerificationError, match="more than once") as info:
        signing.verify_request(doubled, public_key=PUBLIC_PEM)
    assert info.value.reason == "malformed"


def test_an_unread_streamed_body_is_refused() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"{}"

    request = signed_request()
    streamed = httpx.Request("POST", request.url, headers=request.headers, content=chunks())
    with pytest.raises(InvalidParameterError, match="read"):
        signing.verify_request(streamed, public_key=PUBLIC_PEM)


@pytest.mark.anyio
async def test_the_docstring_example_a_respx_side_effect() -> None:
    def check_signature(request: httpx.Request) -> httpx.Response:
        signing.verify_request(request, public_key=PUBLIC_PEM)
        return httpx.Response(201, json={"id": "p-1", "status": "authorization_required"})

    body = b'{"amount_in_minor":100}'
    signature = signing.sign(
        key_id=KID,
        private_key=PRIVATE_PEM,
        method="POST",
        path="/v3/payments",
        headers={"Idempotency-Key": "k-1"},
        body=body,
    )
    with respx.mock() as respx_mock:
        respx_mock.post(f"{API}/v3/payments").mock(side_effect=check_signature)
        async with httpx.AsyncClient() as client:
            sent = {"Idempotency-Key": "k-1", "Tl-Signature": signature}
            response = await client.post(f"{API}/v3/payments", content=body, headers=sent)
            assert response.status_code == 201
            with pytest.raises(SignatureVerificationError):
                await client.post(f"{API}/v3/payments", content=body + b" ", headers=sent)
