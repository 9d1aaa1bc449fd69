"""The emulator's Verification v3 routes over raw httpx: every response (and webhook) is
validated against verification-api.json (``tests/support/openapi.py``, errata in memory),
with the guard's token, scope, signature and idempotency checks and the documented magic
names and accounts (``truelayer_async.testing._verification_outcomes``)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.support.openapi import VERIFICATION, spec
from tests.support.raw_payments import Payments
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.anyio

AHV = "/v3/account-holder-verifications/requests"
FR_PATH = "/v3/verification/fr/verify-account-details"
LOOKUP = "/v3/bank-lookup"
SCOPES = "verification verification:fr verification:bank_lookup"
FR_IBAN = "FR1420041010050500013M02606"


def uk(account_number: str = "12345678", sort_code: str = "040004") -> dict[str, str]:
    return {
        "type": "sort_code_account_number",
        "sort_code": sort_code,
        "account_number": account_number,
    }


def iban(value: str) -> dict[str, str]:
    return {"type": "iban", "iban": value}


def validate(response: httpx.Response) -> None:
    """Check a Verification v3 response against the schema verification-api.json gives for
    its path, method and (documented) status."""
    assert response.headers.get("tl-trace-id"), "every v3 response has Tl-Trace-Id"
    document = spec(VERIFICATION)
    method = response.request.method
    path = re.sub(f"^{AHV}/[^/]+$", AHV + "/{id}", response.request.url.path)
    operation = document.doc["paths"][path][method.lower()]
    assert str(response.status_code) in operation["responses"], (
        f"{method} {path} answered an undocumented {response.status_code}"
    )
    if not response.content:
        return
    kind = response.headers["content-type"].split(";")[0]
    pointer = document.response_pointer(path, method, response.status_code, kind)
    body = response.json()
    document.validate(body, pointer)
    if kind == "application/problem+json":
        assert "traceId" in body and "trace_id" not in body


@pytest.fixture
async def ver(fake: FakeTrueLayer, client: httpx.AsyncClient) -> Payments:
    api = Payments(fake, client)
    api.check = validate
    await api.login(SCOPES)
    return api


async def create(ver: Payments, name: str, identifier: dict[str, Any], **kw: Any) -> str:
    body = {"account_holder_name": name, "account_identifier": identifier}
    response = await ver.request("POST", AHV, body, **kw)
    assert response.status_code == 202, response.text
    assert response.headers["tl-should-retry"] == "false"
    return str(response.json()["id"])


async def test_ahv_is_pending_then_completes_on_the_clock_with_its_webhook(
    fake: FakeTrueLayer, ver: Payments
) -> None:
    request_id = await create(ver, "John Doe", uk())
    pending = await ver.request("GET", f"{AHV}/{request_id}")
    assert pending.json() == {"id": request_id, "status": "pending"}
    assert not fake.webhooks
    fake.advance(fake.payment_timing.verification_delay)
    done = await ver.request("GET", f"{AHV}/{request_id}")
    assert done.json() == {
        "id": request_id,
        "status": "completed",
        "match_result": {"type": "match"},
    }
    (record,) = fake.webhooks
    assert record.payload["account_holder_verification_id"] == request_id
    spec(VERIFICATION).validate(
        record.payload, "#/components/schemas/AccountHolderVerificationCompleted"
    )


@pytest.mark.parametrize(
    ("name", "identifier", "expected"),
    [
        ("john  DOE.", uk(), {"status": "completed", "match_result": {"type": "match"}}),
        (
            "J Doe",
            iban("GB33BUKB20201555555555"),
            {
                "status": "completed",
                "match_result": {"type": "partial_match", "account_holder_name": "John Doe"},
            },
        ),
        ("Jane Roe", uk(), {"status": "completed", "match_result": {"type": "no_match"}}),
        (
            "John Doe",
            uk("12340000"),
            {
                "status": "completed",
                "match_result": {"type": "match_not_possible", "reason": "Bank unable to match"},
            },
        ),
        ("John Doe", uk("12349999"), {"status": "failed", "failure_reason": "provider_error"}),
    ],
)
async def test_ahv_outcomes_follow_the_name_and_the_account(
    fake: FakeTrueLayer, ver: Payments, name: str, identifier: dict[str, Any], expected: Any
) -> None:
    request_id = await create(ver, name, identifier)
    fake.advance(fake.payment_timing.verification_delay)
    assert (await ver.request("GET", f"{AHV}/{request_id}")).json() == {
        "id": request_id,
        **expected,
    }
    (record,) = fake.webhooks
    schema = "Completed" if expected["status"] == "completed" else "Failed"
    spec(VERIFICATION).validate(
        record.payload, f"#/components/schemas/AccountHolderVerification{schema}"
    )


async def test_the_same_key_replays_and_another_body_is_422(ver: Payments) -> None:
    first = await create(ver, "John Doe", uk(), key="k-1")
    assert await create(ver, "John Doe", uk(), key="k-1") == first
    reused = await ver.request(
        "POST", AHV, {"account_holder_name": "Jane", "account_identifier": uk()}, key="k-1"
    )
    assert reused.status_code == 422
    assert reused.json()["title"] == "Idempotency-Key Reuse"


@pytest.mark.parametrize(
    "kw", [{"signed": False}, {"key": None}, {"headers": {"Tl-Signature": "a..b"}}]
)
async def test_ahv_creation_needs_a_signature_over_an_idempotency_key(
    ver: Payments, kw: dict[str, Any]
) -> None:
    body = {"account_holder_name": "John Doe", "account_identifier": uk()}
    response = await ver.request("POST", AHV, body, **kw)
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid request signature."


async def test_each_operation_needs_its_own_scope(ver: Payments) -> None:
    await ver.login("payments")
    body = {"account_holder_name": "John Doe", "account_identifier": uk()}
    assert (await ver.request("POST", AHV, body)).status_code == 403
    await ver.login("verification")
    fr = {"name": "Jean", "account_identifier": iban(FR_IBAN), "account_type": "personal"}
    assert (await ver.request("POST", FR_PATH, fr, signed=False, key=None)).status_code == 403
    lookup = {"account_identifier": uk()}
    assert (await ver.request("POST", LOOKUP, lookup, signed=False, key=None)).status_code == 403
    unauthenticated = await ver.request("GET", f"{AHV}/x", token="not-a-token")
    assert unauthenticated.status_code == 401


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (AHV, {"account_holder_name": "", "account_identifier": uk()}, "account_holder_name"),
        (
            AHV,
            {"account_holder_name": "x" * 201, "account_identifier": uk()},
            "account_holder_name",
        ),
        (
            AHV,
            {"account_holder_name": "Jo", "account_identifier": uk("1")},
            "account_identifier.account_number",
        ),
        (
            AHV,
            {"account_holder_name": "Jo", "account_identifier": {"type": "nrb"}},
            "account_identifier.type",
        ),
        (
            FR_PATH,
            {"name": "Jo", "account_identifier": uk(), "account_type": "personal"},
            "account_identifier.type",
        ),
        (
            FR_PATH,
            {"name": "Jo", "account_identifier": iban(FR_IBAN), "account_type": "joint"},
            "account_type",
        ),
        (
            FR_PATH,
            {
                "name": "Jo",
                "account_identifier": iban(FR_IBAN),
                "account_type": "personal",
                "date_of_birth": "1/2/80",
            },
            "date_of_birth",
        ),
        (LOOKUP, {"account_identifier": iban("fr14")}, "account_identifier.iban"),
    ],
)
async def test_bad_bodies_are_400_with_a_list_of_field_errors(
    ver: Payments, path: str, body: dict[str, Any], field: str
) -> None:
    signed = path == AHV
    response = await ver.request("POST", path, body, signed=signed, key=signed or None)
    assert response.status_code == 400
    assert [list(item) for item in response.json()["errors"]] == [[field]]


async def test_an_unknown_request_is_404(ver: Payments) -> None:
    response = await ver.request("GET", f"{AHV}/550e8400-e29b-41d4-a716-446655440000")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"name": "Jean Dupont", "account_type": "personal", "date_of_birth": "1980-01-01"},
            {
                "name_match": {"type": "match", "match_score": 100},
                "account_type_match": {"type": "match"},
                "account_status": "active",
                "date_of_birth_match": {"type": "match"},
            },
        ),
        (
            {"name": "J. Dupont", "account_type": "business"},
            {
                "name_match": {"type": "partial_match", "match_score": 92},
                "account_type_match": {"type": "no_match"},
                "account_status": "active",
            },
        ),
    ],
)
async def test_fr_verify_account_details_is_deterministic(
    ver: Payments, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    body = {**body, "account_identifier": iban(FR_IBAN)}
    response = await ver.request("POST", FR_PATH, body, signed=False, key=None)
    assert response.status_code == 200 and response.json() == expected


async def test_fr_an_unknown_iban_is_unknown(ver: Payments) -> None:
    body = {
        "name": "Jean Dupont",
        "account_identifier": iban("FR7630006000011234567890189"),
        "account_type": "personal",
        "date_of_birth": "1980-01-01",
    }
    response = await ver.request("POST", FR_PATH, body, signed=False, key=None)
    assert response.json()["account_status"] == "unknown"
    assert response.json()["date_of_birth_match"] == {"type": "unknown"}


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        (uk(), {"bic": "MONZGB2LXXX", "name": "MONZO BANK LIMITED"}),
        (uk(sort_code="300000"), {"bic": "MOCKGB2LXXX", "name": "MOCK BANK"}),
        (iban(FR_IBAN), {"bic": "BNPAFRPPXXX", "name": "BNP PARIBAS"}),
        (iban("NL91ABNA0417164300"), {"bic": "MOCKNL2LXXX", "name": "MOCK BANK NL"}),
    ],
)
async def test_bank_lookup_is_deterministic(
    ver: Payments, identifier: dict[str, Any], expected: dict[str, str]
) -> None:
    body = {"account_identifier": identifier}
    response = await ver.request("POST", LOOKUP, body, signed=False, key=None)
    assert response.status_code == 200 and response.json() == expected


async def test_every_v3_operation_of_the_document_is_served(ver: Payments) -> None:
    document = spec(VERIFICATION).doc
    for path, operations in document["paths"].items():
        if not path.startswith("/v3/"):
            continue
        for method in operations:
            concrete = path.replace("{id}", "550e8400-e29b-41d4-a716-446655440000")
            body = None if method == "get" else {}
            response = await ver.request(method.upper(), concrete, body)
            # The route itself answers (an empty body is refused, the id is unknown).
            if method == "get":
                assert response.json()["detail"] == "Account holder verification not found."
            else:
                assert response.status_code == 400, (path, response.status_code)
