"""Our ``signing`` against TrueLayer's own ``truelayer-signing`` (an independent oracle).

Each side verifies what the other signs, over many request shapes, with the §2.11 test
key and freshly generated P-521 keys; a tampered request fails on both; the published
vectors (TV-1..3) are matched byte for byte where they are deterministic (the JOSE
header, the payload, the signing input) and verified where they are not (ECDSA's
random ``r``).
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.reliability import PROPERTY
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
    TV3_JKU,
    TV3_JWKS,
    TV3_KID,
    TV3_PATH,
    TV3_SIGNATURE,
    TV3_TIMESTAMP,
)
from truelayer_async import signing
from truelayer_async.errors import SignatureVerificationError

from .oracle import (
    official,
    official_rejects,
    official_sign,
    official_verify,
    official_verify_bytes,
)

#: The order of P-521's base point: a valid ``r`` and ``s`` are in ``[1, N)``.
P521_ORDER = int(
    "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B"
    "7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
    16,
)
#: Fewer examples than the suite default: each one signs and verifies P-521 several times.
SIGNING = settings(PROPERTY, max_examples=60)


def fresh_key_pair(kid: str, private_format: serialization.PrivateFormat) -> tuple[str, str, str]:
    """``(kid, private PEM, public PEM)`` of a new P-521 key."""
    key = ec.generate_private_key(ec.SECP521R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, private_format, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return kid, private, public


KEYS = [
    (KID, PRIVATE_PEM, PUBLIC_PEM),
    fresh_key_pair("fresh-sec1", serialization.PrivateFormat.TraditionalOpenSSL),
    fresh_key_pair("fresh-pkcs8", serialization.PrivateFormat.PKCS8),
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

_PCHAR = st.sampled_from(
    [*"abcxyzABCXYZ0189-._~!$&'()*+,;=:@", "%2F", "%20", "%25", "%3F", "%E2%82%AC"]
)


@st.composite
def paths(draw: st.DrawFn) -> str:
    """Absolute paths with percent-encoded segments, sometimes with a trailing slash."""
    segments = draw(st.lists(st.lists(_PCHAR, min_size=1, max_size=6).map("".join), max_size=5))
    path = "/" + "/".join(segments)
    return path + "/" if path != "/" and draw(st.booleans()) else path


_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True)
_VALUES = st.text(st.characters(exclude_characters="\r\n", exclude_categories=("Cs",)))
HEADERS = st.lists(st.tuples(_NAMES, _VALUES), max_size=5, unique_by=lambda p: p[0].lower())
UTF8_BODIES = st.text(st.characters(exclude_categories=("Cs",))).map(str.encode)


@st.composite
def requests(draw: st.DrawFn, bodies: st.SearchStrategy[bytes] = UTF8_BODIES) -> dict[str, object]:
    """One request shape: key, method, path, signed headers (in order) and body."""
    kid, private, public = draw(st.sampled_from(KEYS))
    headers = draw(HEADERS)
    # As received: any name case, and the signed ones in another order among extras.
    received = [
        (draw(st.sampled_from([n, n.lower(), n.upper(), n.swapcase()])), v) for n, v in headers
    ]
    return {
        "kid": kid,
        "private": private,
        "public": public,
        "method": draw(st.sampled_from(METHODS)),
        "path": draw(paths()),
        "headers": headers,
        "received": [("X-Unsigned-Extra", "1"), *reversed(received)],
        "body": draw(bodies),
    }


def ours(r: dict[str, object]) -> str:
    return signing.sign(
        key_id=r["kid"],  # type: ignore[arg-type]
        private_key=r["private"],  # type: ignore[arg-type]
        method=r["method"],  # type: ignore[arg-type]
        path=r["path"],  # type: ignore[arg-type]
        headers=r["headers"],  # type: ignore[arg-type]
        body=r["body"],  # type: ignore[arg-type]
    )


def theirs(r: dict[str, object]) -> str:
    return official_sign(
        kid=r["kid"],  # type: ignore[arg-type]
        private_pem=r["private"],  # type: ignore[arg-type]
        method=r["method"],  # type: ignore[arg-type]
        path=r["path"],  # type: ignore[arg-type]
        headers=r["headers"],  # type: ignore[arg-type]
        body=r["body"],  # type: ignore[arg-type]
    )


def request_of(r: dict[str, object]) -> dict[str, object]:
    """The keyword arguments both verifiers take (headers as received)."""
    return {"method": r["method"], "path": r["path"], "headers": r["received"], "body": r["body"]}


def verify_ours(signature: str, r: dict[str, object], **request: object) -> signing.JoseHeader:
    return signing.verify(signature, public_key=r["public"], **{**request_of(r), **request})  # type: ignore[arg-type]


def verify_theirs(signature: str, r: dict[str, object], **request: object) -> None:
    official_verify(signature, public_pem=r["public"], **{**request_of(r), **request})  # type: ignore[arg-type]


def names(headers: object) -> tuple[str, ...]:
    return tuple(name for name, _ in headers)  # type: ignore[attr-defined]


@SIGNING
@given(requests())
def test_official_library_verifies_what_we_sign(r: dict[str, object]) -> None:
    signature = ours(r)
    verify_theirs(signature, r)
    assert verify_ours(signature, r).tl_headers == names(r["headers"])


@SIGNING
@given(requests())
def test_we_verify_what_the_official_library_signs(r: dict[str, object]) -> None:
    signature = theirs(r)
    assert verify_ours(signature, r).tl_headers == names(r["headers"])
    # The JOSE header is deterministic: both libraries encode it byte for byte alike.
    assert signature.split("..")[0] == ours(r).split("..")[0]


@SIGNING
@given(requests(bodies=st.binary()))
def test_binary_bodies_verify_on_both_sides(r: dict[str, object]) -> None:
    # truelayer-signing takes str bodies: arbitrary bytes go through its ES512 primitive.
    signature = ours(r)
    verify_ours(signature, r)
    official_verify_bytes(
        signature,
        method=r["method"],  # type: ignore[arg-type]
        path=r["path"],  # type: ignore[arg-type]
        headers=r["headers"],  # type: ignore[arg-type]
        body=r["body"],  # type: ignore[arg-type]
        public_pem=r["public"],  # type: ignore[arg-type]
    )


@st.composite
def tampered(draw: st.DrawFn) -> tuple[dict[str, object], str, dict[str, object]]:
    """A request, its signature (ours or theirs), and one change to the request."""
    r = draw(requests())
    r["headers"] = [("Idempotency-Key", draw(_VALUES)), *r["headers"]]  # type: ignore[misc]
    r["headers"] = list({n.lower(): (n, v) for n, v in r["headers"]}.values())  # type: ignore[attr-defined]
    r["received"] = list(r["headers"])  # type: ignore[call-overload]
    signature = draw(st.sampled_from([ours, theirs]))(r)
    kind = draw(st.sampled_from(["body", "path", "method", "header-value", "header-dropped"]))
    headers: list[tuple[str, str]] = list(r["received"])  # type: ignore[call-overload]
    index = draw(st.integers(0, len(headers) - 1))
    change: dict[str, object] = {
        "body": {"body": r["body"] + draw(st.sampled_from([b" ", b"\x00", b"x"]))},  # type: ignore[operator]
        "path": {"path": "/x" + r["path"]},  # type: ignore[operator]
        "method": {"method": draw(st.sampled_from([m for m in METHODS if m != r["method"]]))},
        "header-value": {
            "headers": [(n, v + "x" if i == index else v) for i, (n, v) in enumerate(headers)]
        },
        "header-dropped": {"headers": headers[:index] + headers[index + 1 :]},
    }[kind]
    return r, signature, change  # type: ignore[return-value]


@SIGNING
@given(tampered())
def test_a_tampered_request_fails_on_both_verifiers(
    case: tuple[dict[str, object], str, dict[str, object]],
) -> None:
    r, signature, change = case
    verify_ours(signature, r)  # untouched, it verifies on both
    verify_theirs(signature, r)
    with pytest.raises(SignatureVerificationError):
        verify_ours(signature, r, **change)
    assert official_rejects(signature, public_pem=r["public"], **{**request_of(r), **change})


@pytest.mark.parametrize(("kid", "private", "public"), KEYS, ids=["vector", "sec1", "pkcs8"])
def test_required_idempotency_key_unsigned_fails_on_both(
    kid: str, private: str, public: str
) -> None:
    r = {
        "kid": kid,
        "private": private,
        "public": public,
        "method": "POST",
        "path": "/v3/payments",
        "headers": [("X-Other", "1")],
        "received": [("X-Other", "1"), ("Idempotency-Key", "k")],
        "body": b"{}",
    }
    signature = ours(r)
    with pytest.raises(SignatureVerificationError) as info:
        verify_ours(signature, r, required_headers=["Idempotency-Key"])
    assert info.value.reason == "required_header"
    assert official_rejects(
        signature, public_pem=public, required_headers=["Idempotency-Key"], **request_of(r)
    )


# -- the published vectors, byte for byte ------------------------------------------------


def header_part(signature: str) -> str:
    return signature.split("..")[0]


def assert_raw_signature_shape(signature: str) -> None:
    """Where ECDSA is random: 176 base64url chars = 132 bytes, r and s both in [1, N)."""
    raw = signing.b64url_decode(signature.split("..")[1])
    assert len(signature.split("..")[1]) == 176 and len(raw) == 132
    r, s = int.from_bytes(raw[:66], "big"), int.from_bytes(raw[66:], "big")
    assert 0 < r < P521_ORDER and 0 < s < P521_ORDER


TV1 = {
    "method": "POST",
    "path": TV1_PATH,
    "headers": [("Idempotency-Key", TV1_IDEMPOTENCY_KEY)],
    "body": TV1_BODY,
}


def test_tv1_payload_and_signing_input_match_the_official_library_and_the_vector() -> None:
    tl = official()
    jose = tl.extract_jws_header(TV1_SIGNATURE)
    header_b64, signing_input = tl.utils.build_v2_jws_b64(
        jose, "POST", TV1_PATH, TV1["headers"], TV1_BODY.decode(), False
    )
    payload = signing.signing_payload("POST", TV1_PATH, TV1["headers"], TV1_BODY)  # type: ignore[arg-type]
    assert signing.b64url_encode(payload) == TV1_PAYLOAD_B64
    assert signing_input == f"{header_part(TV1_SIGNATURE)}.{TV1_PAYLOAD_B64}".encode()
    assert header_b64.decode() == header_part(TV1_SIGNATURE)


def test_tv1_signed_by_us_matches_the_vector_and_verifies_on_both() -> None:
    signature = signing.sign(key_id=KID, private_key=PRIVATE_PEM, **TV1)  # type: ignore[arg-type]
    assert header_part(signature) == header_part(TV1_SIGNATURE)
    assert_raw_signature_shape(signature)
    assert_raw_signature_shape(TV1_SIGNATURE)
    for value in (signature, TV1_SIGNATURE):
        official_verify(value, public_pem=PUBLIC_PEM, **TV1)  # type: ignore[arg-type]
        official_verify(value, jwks=JWKS, **TV1)  # type: ignore[arg-type]
        signing.verify(value, public_key=PUBLIC_PEM, **TV1)  # type: ignore[arg-type]
    theirs_value = official_sign(kid=KID, private_pem=PRIVATE_PEM, **TV1)  # type: ignore[arg-type]
    assert header_part(theirs_value) == header_part(TV1_SIGNATURE)
    signing.verify(theirs_value, jwks=JWKS, **TV1)  # type: ignore[arg-type]


TV2 = {
    "method": "POST",
    "path": TV2_PATH,
    "headers": [("X-Tl-Webhook-Timestamp", TV2_TIMESTAMP), ("Content-Type", "application/json")],
    "body": TV2_BODY,
}


def test_tv2_signed_by_us_matches_the_vector_header_with_jku_and_verifies_on_both() -> None:
    signature = signing.sign(key_id=KID, private_key=PRIVATE_PEM, jku=TV2_JKU, **TV2)  # type: ignore[arg-type]
    assert header_part(signature) == header_part(TV2_SIGNATURE)
    assert header_part(official_sign(kid=KID, private_pem=PRIVATE_PEM, jku=TV2_JKU, **TV2)) == (  # type: ignore[arg-type]
        header_part(TV2_SIGNATURE)
    )
    assert_raw_signature_shape(TV2_SIGNATURE)
    for value in (signature, TV2_SIGNATURE):
        official_verify(value, jwks=JWKS, **TV2)  # type: ignore[arg-type]
        assert signing.verify(value, jwks=JWKS, **TV2).jku == TV2_JKU  # type: ignore[arg-type]


TV3 = {
    "method": "POST",
    "path": TV3_PATH,
    "headers": [("x-tl-webhook-timestamp", TV3_TIMESTAMP)],
    "body": TV3_BODY,
}


def test_tv3_header_is_reproduced_and_its_short_jwk_coordinate_verifies_on_both() -> None:
    # TV-3's private key is TrueLayer's: the header is reproduced with another key.
    signature = signing.sign(key_id=TV3_KID, private_key=PRIVATE_PEM, jku=TV3_JKU, **TV3)  # type: ignore[arg-type]
    assert header_part(signature) == header_part(TV3_SIGNATURE)
    assert_raw_signature_shape(TV3_SIGNATURE)
    received = {"X-TL-Webhook-Timestamp": TV3_TIMESTAMP}
    request = {**TV3, "headers": received}
    official_verify(TV3_SIGNATURE, jwks=TV3_JWKS, **request)  # type: ignore[arg-type]
    signing.verify(TV3_SIGNATURE, jwks=TV3_JWKS, **request)  # type: ignore[arg-type]
    tampered = {**request, "body": TV3_BODY.replace(b"JOHN", b"JANE")}
    assert official_rejects(TV3_SIGNATURE, jwks=TV3_JWKS, **tampered)
    with pytest.raises(SignatureVerificationError):
        signing.verify(TV3_SIGNATURE, jwks=TV3_JWKS, **tampered)  # type: ignore[arg-type]


def test_the_oracle_itself_refuses_a_tampered_vector() -> None:
    # Guards the oracle: if it accepted anything, the tests above could not fail.
    assert official_rejects(
        TV1_SIGNATURE, public_pem=PUBLIC_PEM, **{**TV1, "body": TV1_BODY + b" "}
    )
    fresh_public = KEYS[1][2]
    assert official_rejects(TV1_SIGNATURE, public_pem=fresh_public, **TV1)
