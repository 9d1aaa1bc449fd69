"""verify_with_jwks: pure verification, every fail-closed case of issue #19."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.support.signing_vectors import (
    JWKS,
    KID,
    PRIVATE_PEM,
    TV3_BODY,
    TV3_JWKS,
    TV3_PATH,
    TV3_SIGNATURE,
    TV3_TIMESTAMP,
)
from truelayer_async import signing
from truelayer_async.errors import (
    SignatureVerificationError,
    WebhookAlgorithmError,
    WebhookKeySetUntrustedError,
    WebhookPayloadError,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookUnknownKeyError,
    WebhookVerificationError,
)
from truelayer_async.webhooks import (
    PRODUCTION_KEY_SET_URL,
    SANDBOX_KEY_SET_URL,
    PaymentExecuted,
    UnknownEvent,
    verify_with_jwks,
)

TV3_NOW = datetime.fromisoformat("2023-06-09T15:40:40+00:00").timestamp()
TV3_HEADERS = {"Tl-Signature": TV3_SIGNATURE, "X-TL-Webhook-Timestamp": TV3_TIMESTAMP}


def verify_tv3(**overrides: object) -> object:
    args: dict[str, object] = {
        "headers": TV3_HEADERS,
        "body": TV3_BODY,
        "jwks": TV3_JWKS,
        "path": TV3_PATH,
        "allowed_jku": (SANDBOX_KEY_SET_URL,),
        "now": TV3_NOW,
    }
    args.update(overrides)
    headers, body, jwks = args.pop("headers"), args.pop("body"), args.pop("jwks")
    return verify_with_jwks(headers, body, jwks, **args)  # type: ignore[arg-type]


def test_a_real_sandbox_webhook_verifies_and_parses() -> None:
    event = verify_tv3()
    assert isinstance(event, PaymentExecuted)
    assert event.payment_id == "a62ba556-4b35-4628-9d8c-42302d2e5d02"
    assert event.timestamp is not None
    assert event.timestamp.isoformat() == "2023-06-09T15:40:30+00:00"
    assert event.raw["payment_source"]["account_holder_name"] == "JOHN SANDBRIDGE"


def test_headers_as_asgi_byte_pairs_in_lower_case() -> None:
    pairs = [(k.lower().encode(), v.encode()) for k, v in TV3_HEADERS.items()]
    assert isinstance(verify_tv3(headers=pairs), PaymentExecuted)


def test_tampered_body_fails() -> None:
    with pytest.raises(WebhookSignatureError):
        verify_tv3(body=TV3_BODY.replace(b"JOHN", b"JANE"))


def test_re_serialised_body_fails() -> None:
    reserialised = json.dumps(json.loads(TV3_BODY)).encode()  # ", " and ": " separators
    assert reserialised != TV3_BODY
    with pytest.raises(WebhookSignatureError):
        verify_tv3(body=reserialised)


@pytest.mark.parametrize("body", [TV3_BODY.decode(), json.loads(TV3_BODY), None])
def test_str_or_parsed_bodies_are_refused_with_type_error(body: object) -> None:
    with pytest.raises(TypeError, match="raw request body bytes"):
        verify_tv3(body=body)


def test_wrong_path_fails() -> None:
    with pytest.raises(WebhookSignatureError):
        verify_tv3(path="/another-hook")


def test_stale_timestamp_fails() -> None:
    with pytest.raises(WebhookTimestampError) as info:
        verify_tv3(now=TV3_NOW + 301)
    assert info.value.reason == "stale"
    assert isinstance(verify_tv3(now=TV3_NOW + 301, tolerance=600), PaymentExecuted)


def test_future_timestamp_fails() -> None:
    with pytest.raises(WebhookTimestampError) as info:
        verify_tv3(now=TV3_NOW - 120)
    assert info.value.reason == "future"


def test_changed_timestamp_header_fails_the_signature() -> None:
    headers = {**TV3_HEADERS, "X-TL-Webhook-Timestamp": "2023-06-09T15:40:31Z"}
    with pytest.raises(WebhookSignatureError):
        verify_tv3(headers=headers)


def test_missing_signature_fails() -> None:
    with pytest.raises(WebhookSignatureError) as info:
        verify_tv3(headers={"X-TL-Webhook-Timestamp": TV3_TIMESTAMP})
    assert info.value.reason == "missing"


def test_jku_of_the_other_environment_is_refused() -> None:
    with pytest.raises(WebhookKeySetUntrustedError):
        verify_tv3(allowed_jku=(PRODUCTION_KEY_SET_URL,))


def test_unknown_kid_fails() -> None:
    with pytest.raises(WebhookUnknownKeyError):
        verify_tv3(jwks=JWKS)


def sign_webhook(
    *,
    jku: str = SANDBOX_KEY_SET_URL,
    body: bytes = b'{"type":"payment_creditable","event_id":"e","event_version":1,'
    b'"payment_id":"p","creditable_at":"2023-06-09T15:40:30Z"}',
    signed: dict[str, str] | None = None,
) -> tuple[dict[str, str], bytes]:
    signed = {"x-tl-webhook-timestamp": TV3_TIMESTAMP} if signed is None else signed
    value = signing.sign(
        key_id=KID,
        private_key=PRIVATE_PEM,
        method="POST",
        path="/hook",
        body=body,
        headers=signed,
        jku=jku,
    )
    return {"Tl-Signature": value, "X-TL-Webhook-Timestamp": TV3_TIMESTAMP}, body


def verify_signed(headers: dict[str, str], body: bytes, **kwargs: object) -> object:
    kwargs.setdefault("allowed_jku", (SANDBOX_KEY_SET_URL,))
    return verify_with_jwks(headers, body, JWKS, path="/hook", now=TV3_NOW, **kwargs)  # type: ignore[arg-type]


def test_our_own_signature_with_the_test_key_verifies() -> None:
    headers, body = sign_webhook()
    assert verify_signed(headers, body).type == "payment_creditable"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "jku",
    [
        "https://webhooks.truelayer-sandbox.com.evil.example/.well-known/jwks",
        "https://webhooks.truelayer-sandbox.com@evil.example/.well-known/jwks",
        "https://evil.example/?https://webhooks.truelayer-sandbox.com/.well-known/jwks",
        "https://evil.example/#https://webhooks.truelayer-sandbox.com/.well-known/jwks",
        "https://webhooks.truelayer-sandbox.com./.well-known/jwks",
        "https://WEBHOOKS.truelayer-sandbox.com/.well-known/jwks",
        "https://webhooks.truelayer-sandbox.com:8443/.well-known/jwks",
        "http://webhooks.truelayer-sandbox.com/.well-known/jwks",
        "https://webhooks.truelayer-sandbox.com/.well-known/jwks/",
        "https://webhooks.truelayer-sandbox.com/.well-known/jwks?x=1",
        "https://webhooks.truelayer-sandbox.com/.well-known/../evil/jwks",
        "https://webhooks.truelayer-sandbox.com/%2Ewell-known/jwks",
        "https://webhooks.truelayer-sandb0x.com/.well-known/jwks",
        "https://webhooks.truelayer-sandbox.com\\@evil.example/.well-known/jwks",
        " https://webhooks.truelayer-sandbox.com/.well-known/jwks",
        PRODUCTION_KEY_SET_URL,
    ],
)
def test_jku_look_alikes_and_url_tricks_are_refused(jku: str) -> None:
    headers, body = sign_webhook(jku=jku)
    with pytest.raises(WebhookKeySetUntrustedError):
        verify_signed(headers, body)


def test_a_signature_without_jku_is_refused() -> None:
    value = signing.sign(key_id=KID, private_key=PRIVATE_PEM, method="POST", path="/hook")
    with pytest.raises(WebhookKeySetUntrustedError):
        verify_signed({"Tl-Signature": value, "X-TL-Webhook-Timestamp": TV3_TIMESTAMP}, b"{}")


def test_the_timestamp_must_be_signed() -> None:
    headers, body = sign_webhook(signed={})
    with pytest.raises(WebhookSignatureError) as info:
        verify_signed(headers, body)
    assert info.value.reason == "required_header"


@pytest.mark.parametrize("alg", ["RS512", "ES256", "none", "HS512"])
def test_alg_other_than_es512_fails(alg: str) -> None:
    headers, body = sign_webhook()
    header_b64, _, sig = headers["Tl-Signature"].partition("..")
    jose = json.loads(signing.b64url_decode(header_b64))
    jose["alg"] = alg
    headers["Tl-Signature"] = f"{signing.b64url_encode(json.dumps(jose).encode())}..{sig}"
    with pytest.raises(WebhookAlgorithmError):
        verify_signed(headers, body)


def test_unknown_types_become_unknown_event_with_the_raw_payload() -> None:
    headers, body = sign_webhook(body=b'{"type":"brand_new","event_id":"e9","x":[1]}')
    event = verify_signed(headers, body)
    assert isinstance(event, UnknownEvent)
    assert event.raw == {"type": "brand_new", "event_id": "e9", "x": [1]}


@pytest.mark.parametrize("body", [b"[]", b"not json", b'{"event_id":"e"}', b'{"type":1}'])
def test_a_verified_body_that_is_not_an_event_fails_closed(body: bytes) -> None:
    headers, body = sign_webhook(body=body)
    with pytest.raises(WebhookPayloadError):
        verify_signed(headers, body)


def test_a_known_type_with_wrong_fields_fails_without_echoing_values() -> None:
    body = (
        b'{"type":"payment_creditable","event_id":"e","payment_id":"SECRET-ISH","creditable_at":5}'
    )
    headers, body = sign_webhook(body=body)
    with pytest.raises(WebhookPayloadError) as info:
        verify_signed(headers, body)
    assert "creditable_at" in str(info.value)
    assert "SECRET-ISH" not in str(info.value)


def test_every_failure_is_a_webhook_verification_error_and_signature_errors_are_both() -> None:
    with pytest.raises(WebhookVerificationError):
        verify_tv3(body=TV3_BODY + b" ")
    with pytest.raises(SignatureVerificationError):
        verify_tv3(body=TV3_BODY + b" ")
