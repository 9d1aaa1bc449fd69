"""``tl.verification`` Verification v3 on the wire (respx): paths, scopes, Tl-Signature and
Idempotency-Key on AHV creation, request bodies the verification-api.json document
accepts, typed results with Unknown fallbacks, camelCase ``traceId`` in errors, and
``wait_for_account_holder`` on the fake clock."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.openapi import VERIFICATION
from tests.support.payments_schema import request_fits
from tests.support.signed_payments import API, ClockSleep, grant, signed_by
from tests.support.token_endpoint import TOKEN_URL
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import (
    BankLookupResult,
    FrAccountDetails,
    HolderMatch,
    HolderMatchNotPossible,
    HolderNoMatch,
    HolderPartialMatch,
    Iban,
    SortCodeAccountNumber,
    UnknownHolderMatch,
    UnknownVerification,
    VerificationCompleted,
    VerificationFailed,
    VerificationPending,
)

pytestmark = pytest.mark.anyio

AHV = f"{API}/account-holder-verifications/requests"
RID = "550e8400-e29b-41d4-a716-446655440000"
UK = SortCodeAccountNumber(sort_code="040004", account_number="12345678")
FR = Iban(iban="FR1420041010050500013M02606")
PROBLEM = {"Content-Type": "application/problem+json"}


def body_fits(request: httpx.Request, path: str) -> dict[str, Any]:
    """The request's JSON body, checked against verification-api.json's request schema."""
    return request_fits(request, path, document=VERIFICATION)


def token_scope(route: respx.Route) -> str:
    form = dict(
        part.split("=", 1) for part in route.calls.last.request.content.decode().split("&")
    )
    return form["scope"].replace("%3A", ":")


async def test_account_holder_is_signed_keyed_scoped_and_retried_with_the_same_key(
    tl: Session, key: ec.EllipticCurvePrivateKey
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        token = wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(AHV).mock(
            side_effect=[httpx.Response(503), httpx.Response(202, json={"id": RID})]
        )
        request_id = await tl.verification.account_holder(name="John Doe", account_identifier=UK)
    assert request_id == RID
    first, second = (call.request for call in route.calls)
    for request in (first, second):
        signed_by(request, key)
        assert request.headers["Authorization"] == "Bearer cc-1"
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    uuid.UUID(first.headers["Idempotency-Key"], version=4)
    assert first.content == second.content
    assert body_fits(first, "/v3/account-holder-verifications/requests") == {
        "account_holder_name": "John Doe",
        "account_identifier": {
            "type": "sort_code_account_number",
            "sort_code": "040004",
            "account_number": "12345678",
        },
    }
    assert token_scope(token) == "verification"


async def test_a_reused_idempotency_key_is_typed_and_carries_the_camel_case_trace_id(
    tl: Session,
) -> None:
    reuse = {
        "type": "https://docs.truelayer.com/docs/error-codes#idempotency-key-reuse",
        "title": "Idempotency-Key Reuse",
        "status": 422,
        "traceId": "trace-ahv-1",
        "detail": "The provided Idempotency-Key has been used before with different request data.",
    }
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(AHV).mock(return_value=httpx.Response(422, json=reuse, headers=PROBLEM))
        with pytest.raises(e.IdempotencyKeyReuseError) as caught:
            await tl.verification.account_holder(
                name="John Doe", account_identifier=FR, idempotency_key="order-7"
            )
    assert route.calls.last.request.headers["Idempotency-Key"] == "order-7"
    assert len(route.calls) == 1  # never retried
    assert caught.value.correlation_id == "trace-ahv-1"


async def test_validation_errors_as_a_list_become_the_errors_mapping(tl: Session) -> None:
    invalid = {
        "type": "https://docs.truelayer.com/docs/error-codes#invalid-parameters",
        "title": "Invalid Parameters",
        "status": 400,
        "traceId": "trace-2",
        "errors": [{"account_holder_name": "Too long."}, {"account_identifier": "Bad."}],
    }
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.post(AHV).mock(return_value=httpx.Response(400, json=invalid, headers=PROBLEM))
        with pytest.raises(e.VerificationApiError) as caught:
            await tl.verification.account_holder(name="John Doe", account_identifier=UK)
    assert caught.value.errors == {
        "account_holder_name": ["Too long."],
        "account_identifier": ["Bad."],
    }
    assert caught.value.correlation_id == "trace-2"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"id": RID, "status": "pending"}, VerificationPending(id=RID)),
        (
            {"id": RID, "status": "completed", "match_result": {"type": "match"}},
            VerificationCompleted(id=RID, match_result=HolderMatch()),
        ),
        (
            {
                "id": RID,
                "status": "completed",
                "match_result": {"type": "partial_match", "account_holder_name": "J Doe"},
            },
            VerificationCompleted(
                id=RID, match_result=HolderPartialMatch(account_holder_name="J Doe")
            ),
        ),
        (
            {"id": RID, "status": "completed", "match_result": {"type": "no_match"}},
            VerificationCompleted(id=RID, match_result=HolderNoMatch()),
        ),
        (
            {
                "id": RID,
                "status": "completed",
                "match_result": {"type": "match_not_possible", "reason": "Bank unable to match"},
            },
            VerificationCompleted(
                id=RID, match_result=HolderMatchNotPossible(reason="Bank unable to match")
            ),
        ),
        (
            {"id": RID, "status": "failed", "failure_reason": "provider_error"},
            VerificationFailed(id=RID, failure_reason="provider_error"),
        ),
    ],
)
async def test_get_account_holder_decodes_every_status_and_match(
    tl: Session, answer: dict[str, Any], expected: object
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(f"{AHV}/{RID}").mock(return_value=httpx.Response(200, json=answer))
        assert await tl.verification.get_account_holder(RID) == expected
    request = route.calls.last.request
    assert "Tl-Signature" not in request.headers and "Idempotency-Key" not in request.headers


async def test_unknown_statuses_and_match_types_are_kept(tl: Session) -> None:
    new_status = {"id": RID, "status": "queued", "eta": 3}
    new_match = {"id": RID, "status": "completed", "match_result": {"type": "close", "x": 1}}
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.get(f"{AHV}/{RID}").mock(
            side_effect=[httpx.Response(200, json=new_status), httpx.Response(200, json=new_match)]
        )
        queued = await tl.verification.get_account_holder(RID)
        completed = await tl.verification.get_account_holder(RID)
    assert isinstance(queued, UnknownVerification) and queued.raw == new_status
    assert isinstance(completed, VerificationCompleted)
    assert completed.match_result == UnknownHolderMatch(
        type="close", raw={"type": "close", "x": 1}
    )


async def test_wait_for_account_holder_polls_with_back_off_until_completed(
    tl: Session, napping: ClockSleep
) -> None:
    pending = httpx.Response(200, json={"id": RID, "status": "pending"})
    done = {"id": RID, "status": "completed", "match_result": {"type": "no_match"}}
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.get(f"{AHV}/{RID}").mock(
            side_effect=[pending, pending, httpx.Response(200, json=done)]
        )
        result = await tl.verification.wait_for_account_holder(RID, timeout=60)
    assert result == VerificationCompleted(id=RID, match_result=HolderNoMatch())
    assert napping.delays == [1.0, 2.0]


async def test_wait_for_account_holder_times_out_with_the_last_result(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.get(f"{AHV}/{RID}").mock(
            return_value=httpx.Response(200, json={"id": RID, "status": "pending"})
        )
        with pytest.raises(e.WaitTimeoutError) as caught:
            await tl.verification.wait_for_account_holder(RID, timeout=5)
    assert caught.value.last == VerificationPending(id=RID)


async def test_verify_account_details_fr_sends_its_scope_and_decodes(tl: Session) -> None:
    answer = {
        "name_match": {"type": "partial_match", "match_score": 92},
        "account_type_match": {"type": "match"},
        "account_status": "active",
        "date_of_birth_match": {"type": "no_match"},
    }
    with respx.mock(assert_all_called=False) as wire:
        token = wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{API}/verification/fr/verify-account-details").mock(
            return_value=httpx.Response(200, json=answer)
        )
        result = await tl.verification.verify_account_details_fr(
            name="J Dupont", iban=FR, account_type="personal", date_of_birth=date(1980, 1, 2)
        )
    assert isinstance(result, FrAccountDetails)
    assert result.name_match.match_score == 92 and result.date_of_birth_match is not None
    request = route.calls.last.request
    assert "Tl-Signature" not in request.headers
    assert body_fits(request, "/v3/verification/fr/verify-account-details") == {
        "name": "J Dupont",
        "account_identifier": {"type": "iban", "iban": FR.iban},
        "account_type": "personal",
        "date_of_birth": "1980-01-02",
    }
    assert token_scope(token) == "verification:fr"


async def test_bank_lookup_sends_its_scope_and_decodes(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        token = wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{API}/bank-lookup").mock(
            return_value=httpx.Response(200, json={"bic": "MONZGB2LXXX", "name": "MONZO"})
        )
        result = await tl.verification.bank_lookup(UK)
    assert result == BankLookupResult(bic="MONZGB2LXXX", name="MONZO")
    assert body_fits(route.calls.last.request, "/v3/bank-lookup")["account_identifier"] == {
        "type": "sort_code_account_number",
        "sort_code": "040004",
        "account_number": "12345678",
    }
    assert token_scope(token) == "verification:bank_lookup"


@pytest.mark.parametrize(
    "call",
    [
        lambda tl: tl.verification.account_holder(name="", account_identifier=UK),
        lambda tl: tl.verification.account_holder(name="x" * 201, account_identifier=UK),
        lambda tl: tl.verification.account_holder(name="Jo", account_identifier="040004"),
        lambda tl: tl.verification.verify_account_details_fr(
            name="Jo", iban=UK, account_type="personal"
        ),
        lambda tl: tl.verification.verify_account_details_fr(
            name="Jo", iban=FR, account_type="joint"
        ),
        lambda tl: tl.verification.verify_account_details_fr(
            name="Jo", iban=FR, account_type="personal", date_of_birth="1980-01-01"
        ),
        lambda tl: tl.verification.bank_lookup({"type": "iban", "iban": FR.iban}),
    ],
)
async def test_bad_arguments_are_refused_before_anything_is_sent(tl: Session, call: Any) -> None:
    with respx.mock(assert_all_called=False) as wire:
        anything = wire.route().mock(return_value=httpx.Response(500))
        with pytest.raises(e.InvalidParameterError):
            await call(tl)
    assert not anything.called


async def test_each_verification_call_is_named_by_its_route(tl: Session) -> None:
    from truelayer_async.services.verification import BANK_LOOKUP, CREATE_AHV, GET_AHV

    assert CREATE_AHV.operation == (
        "truelayer.verification.POST /account-holder-verifications/requests"
    )
    assert GET_AHV.operation.endswith("/account-holder-verifications/requests/{request_id}")
    assert BANK_LOOKUP.operation == "truelayer.verification.POST /bank-lookup"
