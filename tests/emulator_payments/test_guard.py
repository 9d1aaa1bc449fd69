"""Who may call the Payments v3 emulator: scopes, resource tokens, ``Tl-Signature`` and
idempotency (replay, 422, 409, a lost response retried), problem shapes and faults."""

from __future__ import annotations

import json
import uuid

import anyio
import httpx
import pytest

from tests.support.raw_payments import Payments, merchant_payment
from truelayer_async.signing import sign
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.anyio


async def test_a_token_without_the_payments_scope_is_forbidden(api: Payments) -> None:
    await api.login("verification")
    refused = await api.create()
    assert refused.status_code == 403
    assert (
        refused.json()["type"] == "https://docs.truelayer.com/docs/payments-api-errors#forbidden"
    )


async def test_missing_or_foreign_bearer_is_unauthenticated(api: Payments) -> None:
    missing = await api.create(token="")
    assert missing.status_code == 401 and missing.json()["title"] == "Unauthenticated"
    forged = await api.create(token="not-a-token")
    assert forged.status_code == 401


async def test_missing_bad_or_unregistered_signatures_answer_401(
    api: Payments, fake: FakeTrueLayer
) -> None:
    unsigned = await api.create(signed=False)
    assert unsigned.status_code == 401
    assert unsigned.json()["detail"] == "Invalid request signature."

    body = json.dumps(merchant_payment()).encode()
    key = str(uuid.uuid4())
    signature = sign(
        key_id=api.key_id,
        private_key=api.private_pem,
        method="POST",
        path="/v3/payments",
        body=body,
        headers={"Idempotency-Key": key},
    )
    headers = {
        "Authorization": f"Bearer {api.token}",
        "Idempotency-Key": key,
        "Tl-Signature": signature,
        "Content-Type": "application/json",
    }
    tampered = await api.client.post("/v3/payments", content=body + b" ", headers=headers)
    assert tampered.status_code == 401
    other_key = await api.client.post(
        "/v3/payments", content=body, headers={**headers, "Idempotency-Key": "other"}
    )
    assert other_key.status_code == 401
    other_path = await api.client.post("/v3/payment-links", content=body, headers=headers)
    assert other_path.status_code == 401
    good = await api.client.post("/v3/payments", content=body, headers=headers)
    assert good.status_code == 201

    # Signed without the Idempotency-Key among the signed headers.
    unsigned_key = sign(
        key_id=api.key_id,
        private_key=api.private_pem,
        method="POST",
        path="/v3/payments",
        body=body,
    )
    response = await api.client.post(
        "/v3/payments",
        content=body,
        headers={**headers, "Idempotency-Key": str(uuid.uuid4()), "Tl-Signature": unsigned_key},
    )
    assert response.status_code == 401

    # A key registered for another client does not count.
    stranger = FakeTrueLayer()
    kid, pem = stranger.client_signing_key
    assert (await api.create()).status_code == 201  # our own key still works
    api.key_id, api.private_pem = kid, pem
    assert (await api.create()).status_code == 401


async def test_registered_keys_are_per_client_and_must_be_p521(fake: FakeTrueLayer) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = p256.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    with pytest.raises(ValueError, match="P-521"):
        fake.register_signing_key("k", pem)
    with pytest.raises(ValueError, match="PEM"):
        fake.register_signing_key("k", "not a key")


async def test_a_missing_mandatory_idempotency_key_is_an_invalid_signature(api: Payments) -> None:
    response = await api.create(key=None)
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid request signature."


async def test_resource_token_calls_need_no_signature_client_token_calls_do(api: Payments) -> None:
    created = await api.created()
    by_token = await api.start(created["id"], token=created["resource_token"], signed=False)
    assert by_token.status_code == 200
    other = await api.created()
    unsigned = await api.start(other["id"], signed=False)
    assert unsigned.status_code == 401


async def test_same_key_same_body_replays_the_same_payment(api: Payments) -> None:
    key = str(uuid.uuid4())
    body = merchant_payment()
    first = await api.create(body, key=key)
    second = await api.create(body, key=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["tl-should-retry"] == "false"
    assert api.fake.payment_ids == [first.json()["id"]]


async def test_same_key_other_body_is_422(api: Payments) -> None:
    key = str(uuid.uuid4())
    assert (await api.create(merchant_payment(), key=key)).status_code == 201
    reused = await api.create(merchant_payment(amount_in_minor=2000), key=key)
    assert reused.status_code == 422
    assert reused.json()["title"] == "Idempotency-Key Reuse"


async def test_a_request_in_progress_with_the_same_key_is_409(api: Payments) -> None:
    api.fake.payment_processing_delay = 0.2
    key = str(uuid.uuid4())
    statuses: list[int] = []

    async def create() -> None:
        statuses.append((await api.create(merchant_payment(), key=key)).status_code)

    async with anyio.create_task_group() as group:
        group.start_soon(create)
        group.start_soon(create)
    assert sorted(statuses) == [201, 409]


async def test_a_lost_response_retried_with_the_same_key_creates_one_payment(
    api: Payments, fake: FakeTrueLayer
) -> None:
    fake.drop_response_after_commit("/v3/payments", method="POST")
    key = str(uuid.uuid4())
    body = merchant_payment()
    with pytest.raises(httpx.RemoteProtocolError):
        await api.create(body, key=key)
    retried = await api.create(body, key=key)
    assert retried.status_code == 201
    assert fake.payment_ids == [retried.json()["id"]]


async def test_injected_faults_speak_problem_json(api: Payments, fake: FakeTrueLayer) -> None:
    fake.fail_next("/v3/payments", 500, method="POST")
    failed = await api.create()
    assert failed.status_code == 500
    assert failed.json()["title"] == "Unknown Error"
    assert failed.headers["tl-should-retry"] == "true"
    fake.fail_next("/v3/payments", 429, method="POST")
    limited = await api.create()
    assert limited.json()["title"] == "Rate Limit Exceeded"
    fake.fail_next("/v3/payments/*", 503, method="GET")
    unavailable = await api.client.get(f"/v3/payments/{uuid.uuid4()}")
    assert unavailable.status_code == unavailable.json()["status"] == 503
    assert unavailable.headers["tl-trace-id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_in_minor": 0}, "amount_in_minor"),
        ({"amount_in_minor": True}, "amount_in_minor"),
        ({"amount_in_minor": 5_000_001}, "amount_in_minor"),
        ({"currency": "USD"}, "currency"),
        ({"metadata": {f"k{i}": "v" for i in range(11)}}, "metadata"),
        ({"metadata": {"k" * 41: "v"}}, "metadata." + "k" * 41),
        ({"metadata": {"k": "v" * 501}}, "metadata.k"),
        ({"user": None}, "user"),
        ({"hosted_page": {"return_uri": "x"}, "authorization_flow": {}}, "hosted_page"),
    ],
)
async def test_schema_violations_are_invalid_parameters(
    api: Payments, change: dict[str, object], field: str
) -> None:
    body = merchant_payment()
    body.update(change)
    if change.get("user", 1) is None:
        del body["user"]
    response = await api.create(body)
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()


@pytest.mark.parametrize(
    ("beneficiary", "field"),
    [
        ({"reference": "x" * 19}, "payment_method.beneficiary.reference"),
        ({"reference": "bad_ref"}, "payment_method.beneficiary.reference"),
        ({"account_holder_name": "Jane (Roe)"}, "payment_method.beneficiary.account_holder_name"),
        (
            {"account_identifier": {"type": "sort_code_account_number", "sort_code": "12"}},
            "payment_method.beneficiary.account_identifier.sort_code",
        ),
        ({"type": "nowhere"}, "payment_method.beneficiary.type"),
    ],
)
async def test_external_beneficiary_rules(
    api: Payments, beneficiary: dict[str, object], field: str
) -> None:
    from tests.emulator_payments.helpers import external_payment

    body = external_payment()
    body["payment_method"]["beneficiary"].update(beneficiary)
    response = await api.create(body)
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()


async def test_a_payment_on_an_unknown_mandate_is_refused(api: Payments) -> None:
    body = merchant_payment()
    body["payment_method"] = {"type": "mandate", "mandate_id": str(uuid.uuid4())}
    response = await api.create(body)
    assert response.status_code == 400
    assert "payment_method.mandate_id" in response.json()["errors"]


async def test_unknown_payment_is_not_found(api: Payments) -> None:
    response = await api.request("GET", f"/v3/payments/{uuid.uuid4()}")
    assert response.status_code == 404 and response.json()["title"] == "Not Found"
