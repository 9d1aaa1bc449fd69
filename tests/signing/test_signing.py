"""Tl-Signature signing and verification against TrueLayer's published test vectors (§2.11)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from tests.secret_scan import assert_no_secret_anywhere
from tests.support.signing_vectors import (
    JWKS,
    KID,
    PRIVATE_PEM,
    PUBLIC_PEM,
    TV1_BODY,
    TV1_IDEMPOTENCY_KEY,
    TV1_PATH,
    TV1_PAYLOAD_B64,
    TV1_SIGNATURE,
    TV2_BODY,
    TV2_JKU,
    TV2_PATH,
    TV2_SIGNATURE,
    TV2_TIMESTAMP,
    TV3_BODY,
    TV3_JWKS,
    TV3_PATH,
    TV3_SIGNATURE,
    TV3_TIMESTAMP,
)
from truelayer_async import signing
from truelayer_async.errors import (
    ConfigurationError,
    InvalidParameterError,
    SignatureVerificationError,
)

TV1_HEADERS = {"Idempotency-Key": TV1_IDEMPOTENCY_KEY}


def verify_tv1(**overrides: object) -> signing.JoseHeader:
    args: dict[str, object] = {
        "method": "POST",
        "path": TV1_PATH,
        "body": TV1_BODY,
        "headers": TV1_HEADERS,
        "public_key": PUBLIC_PEM,
    }
    args.update(overrides)
    return signing.verify(TV1_SIGNATURE, **args)  # type: ignore[arg-type]


def test_tv1_payload_and_signing_input_are_byte_exact() -> None:
    payload = signing.signing_payload(
        "post", TV1_PATH, [("Idempotency-Key", TV1_IDEMPOTENCY_KEY)], TV1_BODY
    )
    assert len(payload) == 194
    assert signing.b64url_encode(payload) == TV1_PAYLOAD_B64
    header_b64 = TV1_SIGNATURE.split("..")[0]
    signing_input = f"{header_b64}.{TV1_PAYLOAD_B64}".encode()
    assert len(signing_input) == 404
    assert (
        hashlib.sha256(signing_input).hexdigest()
        == "9f82a8bf28e486c0d35cd0411a65b345416301d21f7f9dc16fe878fcbe6f65ae"
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"headers": {**TV1_HEADERS, "X-Whatever-2": "t2345d"}},
        {"headers": {"idempotency-key": TV1_IDEMPOTENCY_KEY}},
        {"path": TV1_PATH + "/"},
        {"public_key": None, "jwks": JWKS},
        {"headers": [("Idempotency-Key", TV1_IDEMPOTENCY_KEY)]},
        {"required_headers": ["idempotency-key"]},
    ],
    ids=[
        "plain",
        "extra-header",
        "lower-case-name",
        "trailing-slash",
        "jwks",
        "pairs",
        "required",
    ],
)
def test_tv1_verifies(overrides: dict[str, object]) -> None:
    header = verify_tv1(**overrides)
    assert header.kid == KID
    assert header.tl_headers == ("Idempotency-Key",)
    assert header.jku is None


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"body": TV1_BODY.replace(b'"currency":"GBP"', b'"currency": "GBP"')}, "invalid"),
        ({"method": "DELETE"}, "invalid"),
        ({"path": TV1_PATH.replace("a61acaef", "b61acaef")}, "invalid"),
        ({"headers": {"Idempotency-Key": "something-else"}}, "invalid"),
        ({"headers": {}}, "missing_header"),
        ({"required_headers": ["X-Required"]}, "required_header"),
    ],
    ids=["body-space", "method", "path", "header-value", "header-missing", "required-unsigned"],
)
def test_tv1_fails(overrides: dict[str, object], reason: str) -> None:
    with pytest.raises(SignatureVerificationError) as info:
        verify_tv1(**overrides)
    assert info.value.reason == reason


def test_tv2_webhook_verifies_with_jwks_in_any_header_case() -> None:
    headers = {"X-Tl-webhook-Timestamp": TV2_TIMESTAMP, "content-type": "application/json"}
    header = signing.verify(
        TV2_SIGNATURE, method="POST", path=TV2_PATH, body=TV2_BODY, headers=headers, jwks=JWKS
    )
    assert header.jku == TV2_JKU
    assert header.tl_headers == ("X-Tl-Webhook-Timestamp", "Content-Type")


def test_tv2_fails_with_another_timestamp() -> None:
    headers = {
        "X-Tl-Webhook-Timestamp": "2021-12-29T11:42:55Z",
        "Content-Type": "application/json",
    }
    with pytest.raises(SignatureVerificationError):
        signing.verify(
            TV2_SIGNATURE, method="POST", path=TV2_PATH, body=TV2_BODY, headers=headers, jwks=JWKS
        )


def test_tv3_short_jwk_coordinate_is_padded() -> None:
    header = signing.verify(
        TV3_SIGNATURE,
        method="POST",
        path=TV3_PATH,
        body=TV3_BODY,
        headers={"X-TL-Webhook-Timestamp": TV3_TIMESTAMP},
        jwks=TV3_JWKS,
    )
    assert header.tl_headers == ("x-tl-webhook-timestamp",)


def test_sign_then_verify_round_trip_and_header_shape() -> None:
    value = signing.sign(
        key_id=KID,
        private_key=PRIVATE_PEM,
        method="post",
        path="/v3/payments",
        body=b'{"amount_in_minor":1}',
        headers={"Idempotency-Key": "k-1"},
    )
    header_b64, _, sig_b64 = value.partition("..")
    assert len(sig_b64) == 176
    assert json.loads(base64.urlsafe_b64decode(header_b64 + "==")) == {
        "alg": "ES512",
        "kid": KID,
        "tl_version": "2",
        "tl_headers": "Idempotency-Key",
    }
    signing.verify(
        value,
        method="POST",
        path="/v3/payments",
        body=b'{"amount_in_minor":1}',
        headers={"idempotency-key": "k-1"},
        public_key=PUBLIC_PEM,
        required_headers=["Idempotency-Key"],
    )
    with pytest.raises(SignatureVerificationError):
        signing.verify(
            value,
            method="POST",
            path="/v3/payments",
            body=b'{"amount_in_minor":2}',
            headers={"idempotency-key": "k-1"},
            public_key=PUBLIC_PEM,
        )


def test_sign_reproduces_tv1_header_and_an_empty_header_list() -> None:
    value = signing.sign(
        key_id=KID,
        private_key=PRIVATE_PEM,
        method="POST",
        path=TV1_PATH,
        body=TV1_BODY,
        headers=TV1_HEADERS,
    )
    assert value.split("..")[0] == TV1_SIGNATURE.split("..")[0]
    verify_tv1()  # the published one still verifies; ours does too:
    signing.verify(
        value, method="POST", path=TV1_PATH, body=TV1_BODY, headers=TV1_HEADERS, jwks=JWKS
    )
    bare = signing.sign(key_id=KID, private_key=PRIVATE_PEM, method="DELETE", path="/x")
    assert signing.verify(bare, method="DELETE", path="/x", body=b"", jwks=JWKS).tl_headers == ()


def test_jku_is_carried_in_the_header() -> None:
    value = signing.sign(
        key_id=KID, private_key=PRIVATE_PEM, method="POST", path="/h", jku=TV2_JKU
    )
    assert signing.parse_signature(value).jku == TV2_JKU


def forge_header(signature: str, **changes: object) -> str:
    header_b64, _, sig = signature.partition("..")
    jose = json.loads(base64.urlsafe_b64decode(header_b64 + "=="))
    jose.update(changes)
    encoded = signing.b64url_encode(json.dumps(jose).encode())
    return f"{encoded}..{sig}"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (forge_header(TV1_SIGNATURE, alg="none"), "algorithm"),
        (forge_header(TV1_SIGNATURE, alg="HS512"), "algorithm"),
        (forge_header(TV1_SIGNATURE, tl_version=2), "algorithm"),
        (forge_header(TV1_SIGNATURE, kid=None), "malformed"),
        (TV1_SIGNATURE.replace("..", "." + TV1_PAYLOAD_B64 + "."), "malformed"),
        (TV1_SIGNATURE.replace("..", "."), "malformed"),
        ("", "malformed"),
        ("a" * 9000, "malformed"),
        (TV1_SIGNATURE[:-4], "invalid"),
        (TV1_SIGNATURE.split("..")[0] + "..!!!!", "malformed"),
        (forge_header(TV1_SIGNATURE, kid="other"), "invalid"),
    ],
    ids=[
        "alg-none",
        "alg-hs512",
        "version-int",
        "no-kid",
        "attached-payload",
        "compact",
        "empty",
        "huge",
        "short-signature",
        "bad-base64",
        "header-changed",
    ],
)
def test_malformed_or_forged_signatures_are_refused(value: str, reason: str) -> None:
    with pytest.raises(SignatureVerificationError) as info:
        signing.verify(
            value,
            method="POST",
            path=TV1_PATH,
            body=TV1_BODY,
            headers=TV1_HEADERS,
            public_key=PUBLIC_PEM,
        )
    assert info.value.reason == reason


def test_unknown_kid_in_jwks() -> None:
    with pytest.raises(SignatureVerificationError) as info:
        verify_tv1(public_key=None, jwks={"keys": []})
    assert info.value.reason == "unknown_kid"


@pytest.mark.parametrize("body", ['{"a":1}', {"a": 1}, None])
def test_body_must_be_bytes(body: object) -> None:
    with pytest.raises(TypeError, match="exact bytes"):
        verify_tv1(body=body)
    with pytest.raises(TypeError, match="exact bytes"):
        signing.sign(key_id=KID, private_key=PRIVATE_PEM, method="POST", path="/p", body=body)  # type: ignore[arg-type]


def test_bad_private_key_is_a_configuration_error_without_the_key() -> None:
    bogus = PRIVATE_PEM.replace("MIHc", "MIHd")
    with pytest.raises(ConfigurationError) as info:
        signing.sign(key_id=KID, private_key=bogus, method="POST", path="/p")
    body_line = bogus.splitlines()[2]  # a line of the key's base64
    assert_no_secret_anywhere(info.value, body_line)


@pytest.mark.parametrize("path", ["payments", "https://api.x/v3/payments", "/v3/p?x=1"])
def test_path_must_be_a_bare_absolute_path(path: str) -> None:
    with pytest.raises(InvalidParameterError):
        signing.sign(key_id=KID, private_key=PRIVATE_PEM, method="POST", path=path)


def test_header_values_with_line_breaks_are_refused() -> None:
    with pytest.raises(InvalidParameterError):
        signing.sign(
            key_id=KID,
            private_key=PRIVATE_PEM,
            method="POST",
            path="/p",
            headers={"Idempotency-Key": "a\nX-Evil: 1"},
        )


def test_jwk_round_trip() -> None:
    key = signing.public_key_from_jwk(JWKS["keys"][1])
    jwk = signing.jwk_from_public_key(key, KID)
    assert signing.public_key_from_jwk(jwk).public_numbers() == key.public_numbers()
    with pytest.raises(ValueError, match="P-521"):
        signing.public_key_from_jwk({**jwk, "crv": "P-256"})
