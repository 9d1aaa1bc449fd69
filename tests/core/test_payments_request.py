"""Issue #17: ``Core.payments_request``, the one path of every Payments v3 call.

Which bearer it sends, when it signs (and refuses to send unsigned), and how it keeps
one Idempotency-Key per logical call across retries and the 401 replay. The signature
itself is checked here with our verifier; tests/signing checks it against TrueLayer's.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.doubles import RecordingSleep
from tests.support.token_endpoint import REDIRECT, TOKEN_URL
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.signing import verify
from truelayer_async.testing import FakeClock

API = "https://api.truelayer-sandbox.com/v3"
KID = "45fc75cf-5649-4134-84b3-192c2c78e990"


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP521R1())


def _grant(n: int) -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": f"cc-{n}", "expires_in": 3600, "token_type": "Bearer"}
    )


@pytest.fixture
async def tl(
    key: ec.EllipticCurvePrivateKey, clock: FakeClock, sleeps: RecordingSleep
) -> AsyncIterator[Session]:
    async with Session(
        "client",
        "secret",
        redirect_uri=REDIRECT,
        clock=clock,
        sleep=sleeps,
        signing_key_id=KID,
        signing_private_key=_pem(key),
    ) as session:
        yield session


@pytest.fixture
async def unsigned(clock: FakeClock, sleeps: RecordingSleep) -> AsyncIterator[Session]:
    async with Session("client", "secret", clock=clock, sleep=sleeps) as session:
        yield session


def _verified(request: httpx.Request, key: ec.EllipticCurvePrivateKey) -> None:
    header = verify(
        request.headers["Tl-Signature"],
        method=request.method,
        path=request.url.raw_path.decode().split("?")[0],
        body=request.content,
        headers=request.headers,
        public_key=key.public_key(),
        required_headers=["Idempotency-Key"],
    )
    assert header.kid == KID and header.tl_headers == ("Idempotency-Key",)


@pytest.mark.anyio
async def test_a_signed_write_is_signed_keyed_and_sent_with_the_client_token(
    tl: Session, key: ec.EllipticCurvePrivateKey
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        grant = wire.post(TOKEN_URL).mock(return_value=_grant(1))
        api = wire.post(f"{API}/payments").mock(
            side_effect=[httpx.Response(503), httpx.Response(201, json={"id": "p1"})]
        )
        response = await tl._core.payments_request(
            "POST", "/payments", json_body={"amount_in_minor": 1}, sign="always"
        )
    assert response.json() == {"id": "p1"}
    first, second = (call.request for call in api.calls)
    for request in (first, second):
        assert request.headers["Authorization"] == "Bearer cc-1"
        _verified(request, key)
    # One logical call: the same key and bytes on the retry, a fresh signature.
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert first.content == second.content == b'{"amount_in_minor":1}'
    assert first.headers["Tl-Signature"] != second.headers["Tl-Signature"]
    form = grant.calls.last.request.content.decode()
    assert "scope=payments" in form


@pytest.mark.anyio
async def test_each_logical_call_gets_its_own_key_unless_one_is_given(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=_grant(1))
        api = wire.post(f"{API}/payments").mock(return_value=httpx.Response(201, json={}))
        for _ in range(2):
            await tl._core.payments_request("POST", "/payments", json_body={}, sign="always")
        await tl._core.payments_request(
            "POST", "/payments", json_body={}, sign="always", idempotency_key="mine-1"
        )
    keys = [call.request.headers["Idempotency-Key"] for call in api.calls]
    assert keys[0] != keys[1] and keys[2] == "mine-1"


@pytest.mark.anyio
async def test_the_401_replay_keeps_the_key_and_signs_again(
    tl: Session, key: ec.EllipticCurvePrivateKey
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(side_effect=[_grant(1), _grant(2)])
        api = wire.post(f"{API}/payments").mock(
            side_effect=[httpx.Response(401, json={}), httpx.Response(201, json={})]
        )
        await tl._core.payments_request("POST", "/payments", json_body={}, sign="always")
    first, second = (call.request for call in api.calls)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert second.headers["Authorization"] == "Bearer cc-2"
    _verified(second, key)


@pytest.mark.anyio
async def test_a_resource_token_is_the_bearer_and_skips_a_conditional_signature(
    tl: Session, key: ec.EllipticCurvePrivateKey
) -> None:
    url = f"{API}/payments/p1/authorization-flow"
    with respx.mock(assert_all_called=False) as wire:
        grant = wire.post(TOKEN_URL).mock(return_value=_grant(1))
        api = wire.post(url).mock(return_value=httpx.Response(200, json={}))
        await tl._core.payments_request(
            "POST",
            "/payments/p1/authorization-flow",
            json_body={},
            resource_token="rt-1",
            sign="with_client_token",
        )
        await tl._core.payments_request(
            "POST", "/payments/p1/authorization-flow", json_body={}, sign="with_client_token"
        )
    with_resource, with_client = (call.request for call in api.calls)
    assert grant.call_count == 1
    assert with_resource.headers["Authorization"] == "Bearer rt-1"
    assert "Tl-Signature" not in with_resource.headers
    assert with_client.headers["Authorization"] == "Bearer cc-1"
    _verified(with_client, key)


@pytest.mark.anyio
async def test_unauthenticated_and_unsigned_reads(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        grant = wire.post(TOKEN_URL).mock(return_value=_grant(1))
        api = wire.get(f"{API}/payments-providers/ob-x").mock(
            return_value=httpx.Response(200, json={"id": "ob-x"})
        )
        await tl._core.payments_request(
            "GET", "/payments-providers/ob-x", authenticated=False, params={"client_id": "c"}
        )
    request = api.calls.last.request
    assert grant.call_count == 0
    assert "Authorization" not in request.headers and "Tl-Signature" not in request.headers
    assert "Idempotency-Key" not in request.headers and request.url.params["client_id"] == "c"


@pytest.mark.anyio
async def test_a_needed_signature_without_a_key_fails_before_any_request(
    unsigned: Session,
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        route = wire.route()
        with pytest.raises(e.ConfigurationError, match="signing_key_id"):
            await unsigned._core.payments_request("POST", "/payments", json_body={}, sign="always")
        with pytest.raises(e.ConfigurationError):
            await unsigned._core.payments_request(
                "POST", "/payments/p/actions/consent", json_body={}, sign="with_client_token"
            )
    assert route.call_count == 0


@pytest.mark.anyio
async def test_idempotency_errors_are_typed(tl: Session) -> None:
    def problem(status: int, suffix: str, title: str) -> httpx.Response:
        body = {
            "type": f"https://docs.truelayer.com/docs/payments-api-errors#{suffix}",
            "title": title,
            "status": status,
            "trace_id": "t-1",
        }
        return httpx.Response(
            status,
            content=json.dumps(body).encode(),
            headers={"content-type": "application/problem+json", "Tl-Should-Retry": "false"},
        )

    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=_grant(1))
        wire.post(f"{API}/payments").mock(
            side_effect=[
                problem(
                    409,
                    "idempotency-key-concurrency-conflict",
                    "Idempotency-Key Concurrency Conflict",
                ),
                problem(422, "idempotency-key-reuse", "Idempotency-Key Reuse"),
            ]
        )
        with pytest.raises(e.IdempotencyConflictError):
            await tl._core.payments_request("POST", "/payments", json_body={}, sign="always")
        with pytest.raises(e.IdempotencyKeyReuseError):
            await tl._core.payments_request("POST", "/payments", json_body={}, sign="always")


@pytest.mark.parametrize(
    ("kid", "pem", "match"),
    [
        ("kid", "not a key", "P-521"),
        (None, "pem", "together"),
        ("kid", None, "together"),
        ("", "pem", "signing_key_id"),
    ],
)
def test_bad_signing_settings_fail_at_construction(
    kid: str | None, pem: str | None, match: str, key: ec.EllipticCurvePrivateKey
) -> None:
    if pem == "pem":
        pem = _pem(key)
    with pytest.raises(e.ConfigurationError, match=match):
        Session("client", "secret", signing_key_id=kid, signing_private_key=pem)


def test_a_p256_key_is_refused() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(e.ConfigurationError, match="P-521"):
        Session("client", "secret", signing_key_id=KID, signing_private_key=_pem(other))


def test_the_signer_and_session_never_show_the_key(key: ec.EllipticCurvePrivateKey) -> None:
    pem = _pem(key)
    session = Session("client", "secret", signing_key_id=KID, signing_private_key=pem)
    body = pem.splitlines()[1]
    assert session.signing_key_id == KID
    for text in (repr(session), repr(session._core.signer), str(vars(session))):
        assert body not in text
