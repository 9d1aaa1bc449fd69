"""Payments requests as a real Session sends them, each checked by both verifiers.

``Core.payments_request`` on a ``Session(signing_key_id=, signing_private_key=)``; respx
captures every attempt, and both ``signing.verify_request`` and TrueLayer's
``truelayer-signing`` check the signature over the exact bytes on the wire.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.support.doubles import RecordingSleep
from tests.support.signing_vectors import KID, PRIVATE_PEM, PUBLIC_PEM
from tests.support.token_endpoint import REDIRECT, TOKEN_URL
from truelayer_async import Session, signing
from truelayer_async._path_segment import path_segment
from truelayer_async.errors import ConfigurationError, SignatureVerificationError
from truelayer_async.testing import FakeClock

from .oracle import official_rejects, official_verify_request

API = "https://api.truelayer-sandbox.com/v3"
#: Non-ASCII text: whatever bytes the SDK encodes it to are the bytes that must be signed.
CREATE = {"amount_in_minor": 1999, "currency": "GBP", "reference": "Café £5 ✓", "metadata": {}}


def _grant(n: int) -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": f"cc-{n}", "expires_in": 3600, "token_type": "Bearer"}
    )


@pytest.fixture
async def tl(clock: FakeClock, sleeps: RecordingSleep) -> AsyncIterator[Session]:
    async with Session(
        "client",
        "secret",
        redirect_uri=REDIRECT,
        clock=clock,
        sleep=sleeps,
        signing_key_id=KID,
        signing_private_key=PRIVATE_PEM,
    ) as session:
        yield session


def both_verify(request: httpx.Request) -> signing.JoseHeader:
    """Our verify_request and TrueLayer's library both accept this request as sent."""
    official_verify_request(request, public_pem=PUBLIC_PEM)
    return signing.verify_request(request, public_key=PUBLIC_PEM)


def both_reject(request: httpx.Request) -> None:
    with pytest.raises(SignatureVerificationError):
        signing.verify_request(request, public_key=PUBLIC_PEM)
    assert official_rejects(
        request.headers["Tl-Signature"],
        method=request.method,
        path=request.url.raw_path.split(b"?")[0].decode(),
        headers=list(request.headers.items()),
        body=request.content,
        public_pem=PUBLIC_PEM,
    )


@pytest.mark.anyio
async def test_always_signed_create_survives_a_503_with_one_key_and_fresh_signatures(
    tl: Session,
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=_grant(1))
        api = wire.post(f"{API}/payments").mock(
            side_effect=[httpx.Response(503), httpx.Response(201, json={"id": "p1"})]
        )
        await tl._core.payments_request(
            "POST", "/payments", json_body=CREATE, sign="always", idempotent=True
        )
    first, second = (call.request for call in api.calls)
    for request in (first, second):
        header = both_verify(request)
        assert header.kid == KID and header.tl_headers == ("Idempotency-Key",)
        assert request.url.raw_path == b"/v3/payments"
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert first.content == second.content and json.loads(first.content) == CREATE
    assert first.headers["Tl-Signature"] != second.headers["Tl-Signature"]
    # The signature covers these bytes and this key, nothing looser.
    for changed in (
        httpx.Request("POST", first.url, headers=first.headers, content=first.content + b" "),
        httpx.Request(
            "POST",
            first.url,
            headers={**first.headers, "Idempotency-Key": second.headers["Idempotency-Key"] + "x"},
            content=first.content,
        ),
        httpx.Request("PUT", first.url, headers=first.headers, content=first.content),
        httpx.Request("POST", f"{API}/payouts", headers=first.headers, content=first.content),
    ):
        both_reject(changed)


@pytest.mark.anyio
async def test_the_callers_idempotency_key_is_sent_and_signed(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=_grant(1))
        api = wire.post(f"{API}/payments").mock(return_value=httpx.Response(201, json={}))
        await tl._core.payments_request(
            "POST",
            "/payments",
            json_body=CREATE,
            sign="always",
            idempotent=True,
            idempotency_key="order-42-attempt-1",
        )
    request = api.calls.last.request
    assert request.headers["Idempotency-Key"] == "order-42-attempt-1"
    both_verify(request)


@pytest.mark.anyio
async def test_with_client_token_signs_only_when_the_client_token_is_the_bearer(
    tl: Session,
) -> None:
    payment = path_segment("pay ment:1é", "payment_id")
    path = f"/payments/{payment}/authorization-flow"
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=_grant(1))
        api = wire.post(f"{API}{path}").mock(return_value=httpx.Response(200, json={}))
        await tl._core.payments_request(
            "POST", path, json_body={"redirect": {}}, sign="with_client_token", idempotent=True
        )
        await tl._core.payments_request(
            "POST",
            path,
            json_body={"redirect": {}},
            resource_token="rt-1",
            sign="with_client_token",
            idempotent=True,
        )
    with_client, with_resource = (call.request for call in api.calls)
    assert with_client.url.raw_path == f"/v3{path}".encode() and "%20" in path
    assert with_client.headers["Authorization"] == "Bearer cc-1"
    both_verify(with_client)
    assert with_resource.headers["Authorization"] == "Bearer rt-1"
    assert "Tl-Signature" not in with_resource.headers
    assert "Idempotency-Key" in with_resource.headers
    with pytest.raises(SignatureVerificationError, match="no Tl-Signature"):
        signing.verify_request(with_resource, public_key=PUBLIC_PEM)


@pytest.mark.anyio
async def test_always_signs_even_with_a_resource_token_and_never_never_signs(
    tl: Session,
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=_grant(1))
        cancel = wire.post(f"{API}/payments/p1/actions/cancel").mock(
            return_value=httpx.Response(202)
        )
        read = wire.get(f"{API}/payments/p1").mock(return_value=httpx.Response(200, json={}))
        await tl._core.payments_request(
            "POST",
            "/payments/p1/actions/cancel",
            json_body={},
            resource_token="rt-1",
            sign="always",
        )
        await tl._core.payments_request("GET", "/payments/p1", sign="never")
    signed = cancel.calls.last.request
    assert signed.headers["Authorization"] == "Bearer rt-1"
    both_verify(signed)
    unsigned = read.calls.last.request
    assert "Tl-Signature" not in unsigned.headers and "Idempotency-Key" not in unsigned.headers


@pytest.mark.anyio
async def test_a_needed_signature_without_a_key_fails_before_any_request(
    clock: FakeClock, sleeps: RecordingSleep
) -> None:
    async with Session("client", "secret", clock=clock, sleep=sleeps) as tl:
        with respx.mock(assert_all_called=False) as wire:
            route = wire.route()
            for sign in ("always", "with_client_token"):
                with pytest.raises(ConfigurationError, match="signing_private_key"):
                    await tl._core.payments_request(
                        "POST", "/payments", json_body=CREATE, sign=sign, idempotent=True
                    )
        assert route.call_count == 0


def _pem(key: object) -> str:
    return key.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize(
    "pem",
    [
        pytest.param(_pem(ec.generate_private_key(ec.SECP256R1())), id="p-256"),
        pytest.param(_pem(ec.generate_private_key(ec.SECP384R1())), id="p-384"),
        pytest.param(_pem(rsa.generate_private_key(65537, 2048)), id="rsa"),
        pytest.param(_pem(ed25519.Ed25519PrivateKey.generate()), id="ed25519"),
        pytest.param(PUBLIC_PEM, id="public-half"),
        pytest.param(
            ec.generate_private_key(ec.SECP521R1())
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"pass"),
            )
            .decode(),
            id="encrypted",
        ),
    ],
)
def test_a_key_that_is_not_an_unencrypted_p521_private_key_fails_at_construction(
    pem: str,
) -> None:
    with pytest.raises(ConfigurationError, match="P-521"):
        Session("client", "secret", signing_key_id=KID, signing_private_key=pem)
