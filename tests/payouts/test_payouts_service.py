"""``tl.payouts`` on the wire (respx): path, bearer, Tl-Signature and Idempotency-Key as
the endpoint matrix wants them, bodies the OpenAPI document accepts, every response
decoded, errors typed, and ``wait_for`` on the fake clock."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support import payout_samples as samples
from tests.support.payments_schema import request_fits
from tests.support.signed_payments import API, ClockSleep, grant, problem, signed_by
from tests.support.token_endpoint import REDIRECT, TOKEN_URL, form_of
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import (
    Bban,
    BusinessAccountBeneficiary,
    CreatedPayout,
    ExternalAccountBeneficiary,
    Iban,
    InstantOnly,
    InstantPreferred,
    Nrb,
    PaymentSourceBeneficiary,
    PaymentUser,
    PayoutAuthorizationFlowAuthorizing,
    PayoutAuthorizationFlowCompleted,
    PayoutAuthorizationFlowCreated,
    PayoutExecuted,
    PayoutFailed,
    PayoutPending,
    PayoutVerificationInput,
    PreselectedProviderId,
    PreselectedScheme,
    SortCodeAccountNumber,
    TransactionSearchCriteria,
    UnknownPayout,
    UserDeterminedBeneficiary,
    UserSelectedProvider,
    to_wire,
)

PAYOUT = f"{API}/payouts/{samples.PAYOUT_ID}"
SCAN = SortCodeAccountNumber(sort_code="040668", account_number="00000871")
BENEFICIARIES: dict[str, Any] = {
    "external_account": ExternalAccountBeneficiary(
        account_holder_name="Ada Lovelace", account_identifier=SCAN, reference="Withdrawal 1"
    ),
    "payment_source": PaymentSourceBeneficiary(
        payment_source_id="ps-1", user_id="user-1", reference="Refund 1"
    ),
    "business_account": BusinessAccountBeneficiary(reference="Treasury"),
    "user_determined": UserDeterminedBeneficiary(
        reference="Winnings",
        user=PaymentUser(name="Ada Lovelace", email="ada@example.com"),
        verification=PayoutVerificationInput(
            verify_name=True,
            transaction_search_criteria=TransactionSearchCriteria(
                tokens=["ACME", "deposit"], amount_in_minor=1000, created_at=date(2024, 5, 1)
            ),
        ),
        provider_selection=UserSelectedProvider(),
    ),
}


async def _create(tl: Session, beneficiary: Any, **kwargs: Any) -> CreatedPayout:
    return await tl.payouts.create(
        merchant_account_id=samples.MA_ID,
        amount_in_minor=1500,
        currency="GBP",
        beneficiary=beneficiary,
        **kwargs,
    )


@pytest.mark.anyio
@pytest.mark.parametrize("kind", sorted(BENEFICIARIES))
async def test_create_sends_each_beneficiary_signed_keyed_and_valid(
    tl: Session, key: ec.EllipticCurvePrivateKey, kind: str
) -> None:
    answer = (
        samples.CREATED_VERIFIED_PAYOUT if kind == "user_determined" else samples.CREATED_PAYOUT
    )
    with respx.mock(assert_all_called=True) as wire:
        token = wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{API}/payouts").mock(return_value=httpx.Response(202, json=answer))
        created = await _create(
            tl,
            BENEFICIARIES[kind],
            scheme_selection=InstantOnly(),
            metadata={"order": "42"},
        )
    request = route.calls.last.request
    signed_by(request, key)
    uuid.UUID(request.headers["Idempotency-Key"], version=4)
    assert request.headers["Authorization"] == "Bearer cc-1"
    assert form_of(token.calls.last.request)["scope"] == "payments"
    body = request_fits(request, "/v3/payouts")
    assert body["beneficiary"]["type"] == kind
    assert body["scheme_selection"] == {"type": "instant_only"}
    assert (body["amount_in_minor"], body["currency"], body["metadata"]) == (
        1500,
        "GBP",
        {"order": "42"},
    )
    assert created.id == samples.PAYOUT_ID
    if kind == "user_determined":
        assert created.resource_token is not None
        assert created.resource_token.get_secret_value() == "payout-resource-token-SECRET"
        assert body["beneficiary"]["verification"]["transaction_search_criteria"] == {
            "tokens": ["ACME", "deposit"],
            "amount_in_minor": 1000,
            "currency": "GBP",
            "created_at": "2024-05-01",
        }
    else:
        assert created.resource_token is None


@pytest.mark.anyio
async def test_a_retried_create_keeps_its_key_and_bytes_with_a_fresh_signature(
    tl: Session, key: ec.EllipticCurvePrivateKey
) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{API}/payouts").mock(
            side_effect=[
                httpx.Response(503),
                httpx.Response(202, json=samples.CREATED_PAYOUT),
            ]
        )
        await _create(tl, BENEFICIARIES["business_account"], idempotency_key="my-key-1")
    first, second = (call.request for call in route.calls)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == "my-key-1"
    assert first.content == second.content
    for request in (first, second):
        signed_by(request, key)


@pytest.mark.anyio
async def test_idempotency_errors_are_typed(tl: Session) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.post(f"{API}/payouts").mock(
            return_value=problem(422, "idempotency-key-reuse", "Idempotency-Key Reuse")
        )
        with pytest.raises(e.IdempotencyKeyReuseError):
            await _create(tl, BENEFICIARIES["business_account"])


@pytest.mark.anyio
async def test_create_needs_a_signing_key_and_sends_nothing_without_one() -> None:
    async with Session("client", "secret", redirect_uri=REDIRECT) as tl:
        with respx.mock(assert_all_called=False) as wire:
            route = wire.route().mock(return_value=httpx.Response(500))
            with pytest.raises(e.ConfigurationError, match="signing_key_id"):
                await _create(tl, BENEFICIARIES["business_account"])
    assert not route.called


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"amount_in_minor": 0}, "amount_in_minor"),
        ({"currency": "USD"}, "currency"),
        ({"merchant_account_id": ""}, "merchant_account_id"),
        ({"beneficiary": {"type": "business_account", "reference": "x"}}, "beneficiary"),
        (
            {
                "beneficiary": ExternalAccountBeneficiary(
                    account_holder_name="Ada",
                    account_identifier=Bban(bban="123456"),
                    reference="x",
                )
            },
            "Bban",
        ),
        ({"scheme_selection": PreselectedScheme(scheme_id="swift")}, "scheme_id"),
        ({"metadata": {str(i): "v" for i in range(11)}}, "metadata"),
    ],
)
async def test_bad_create_arguments_raise_before_anything_is_sent(
    tl: Session, kwargs: dict[str, Any], names: str
) -> None:
    arguments: dict[str, Any] = {
        "merchant_account_id": samples.MA_ID,
        "amount_in_minor": 1500,
        "currency": "GBP",
        "beneficiary": BENEFICIARIES["business_account"],
        **kwargs,
    }
    with respx.mock(assert_all_called=False) as wire:
        route = wire.route().mock(return_value=httpx.Response(500))
        with pytest.raises(e.InvalidParameterError, match=names):
            await tl.payouts.create(**arguments)
    assert not route.called


@pytest.mark.anyio
@pytest.mark.parametrize("currency", ["GBP", "EUR", "PLN"])
async def test_every_payout_currency_is_sent(tl: Session, currency: str) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{API}/payouts").mock(
            return_value=httpx.Response(202, json=samples.CREATED_PAYOUT)
        )
        await tl.payouts.create(
            merchant_account_id=samples.MA_ID,
            amount_in_minor=1,
            currency=currency,
            beneficiary=BENEFICIARIES["payment_source"],
        )
    assert request_fits(route.calls.last.request, "/v3/payouts")["currency"] == currency


def test_payout_inputs_check_their_fields() -> None:
    for identifier in (SCAN, Iban(iban="GB33BUKB20201555555555"), Nrb(nrb="6" * 26)):
        ExternalAccountBeneficiary(
            account_holder_name="Ada", account_identifier=identifier, reference="ok"
        )
    with pytest.raises(e.InvalidParameterError, match=r"BusinessAccountBeneficiary\.reference"):
        BusinessAccountBeneficiary(reference="x" * 19)
    with pytest.raises(e.InvalidParameterError, match=r"PaymentSourceBeneficiary\.reference"):
        PaymentSourceBeneficiary(payment_source_id="p", user_id="u", reference="semi;colon")
    with pytest.raises(e.InvalidParameterError, match=r"TransactionSearchCriteria\.tokens"):
        TransactionSearchCriteria(tokens=["ab"], amount_in_minor=1, created_at=date(2024, 1, 1))
    with pytest.raises(e.InvalidParameterError, match=r"TransactionSearchCriteria\.tokens"):
        TransactionSearchCriteria(
            tokens=["abc"] * 6, amount_in_minor=1, created_at=date(2024, 1, 1)
        )
    with pytest.raises(e.InvalidParameterError, match=r"TransactionSearchCriteria\.currency"):
        TransactionSearchCriteria(
            tokens=["abc"], amount_in_minor=1, created_at=date(2024, 1, 1), currency="EUR"
        )
    with pytest.raises(e.InvalidParameterError, match=r"PayoutVerificationInput\.verify_name"):
        PayoutVerificationInput(verify_name="yes")  # type: ignore[arg-type]
    with pytest.raises(e.InvalidParameterError, match="provider_selection"):
        UserDeterminedBeneficiary(
            reference="r",
            user=PaymentUser(),
            verification=PayoutVerificationInput(verify_name=False),
            provider_selection="ob-bank",  # type: ignore[arg-type]
        )


@pytest.mark.anyio
async def test_get_decodes_each_status(tl: Session) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(PAYOUT).mock(
            side_effect=[
                httpx.Response(200, json=samples.PAYOUTS["pending"]),
                httpx.Response(200, json=samples.PAYOUTS["failed"]),
            ]
        )
        pending = await tl.payouts.get(samples.PAYOUT_ID)
        failed = await tl.payouts.get(samples.PAYOUT_ID)
    assert isinstance(pending, PayoutPending) and isinstance(failed, PayoutFailed)
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer cc-1"
    assert "Tl-Signature" not in request.headers and "Idempotency-Key" not in request.headers


@pytest.mark.anyio
async def test_a_payout_id_that_would_leave_its_path_segment_is_refused(tl: Session) -> None:
    with pytest.raises(e.InvalidParameterError, match="payout_id"):
        await tl.payouts.get("../merchant-accounts")


@pytest.mark.anyio
async def test_the_authorization_flow_uses_the_resource_token_unsigned(tl: Session) -> None:
    with respx.mock(assert_all_called=True) as wire:
        start = wire.post(f"{PAYOUT}/authorization-flow").mock(
            return_value=httpx.Response(200, json=samples.PAYOUT_FLOWS["authorizing"])
        )
        get = wire.get(f"{PAYOUT}/authorization-flow").mock(
            side_effect=[
                httpx.Response(200, json=samples.PAYOUT_FLOWS["created"]),
                httpx.Response(200, json=samples.PAYOUT_FLOWS["completed"]),
            ]
        )
        started = await tl.payouts.start_authorization_flow(
            samples.PAYOUT_ID,
            resource_token="payout-resource-token-SECRET",
            return_uri="https://shop.example/payout-return",
            user_ip="203.0.113.9",
        )
        created = await tl.payouts.get_authorization_flow(
            samples.PAYOUT_ID, resource_token="payout-resource-token-SECRET"
        )
        completed = await tl.payouts.get_authorization_flow(
            samples.PAYOUT_ID, resource_token="payout-resource-token-SECRET"
        )
    assert isinstance(started, PayoutAuthorizationFlowAuthorizing)
    assert started.actions.next.uri == "https://app.example/payouts/1"
    assert isinstance(created, PayoutAuthorizationFlowCreated)
    assert isinstance(completed, PayoutAuthorizationFlowCompleted)
    request = start.calls.last.request
    body = request_fits(request, "/v3/payouts/{id}/authorization-flow")
    assert body == {"redirect": {"return_uri": "https://shop.example/payout-return"}}
    assert request.headers["X-Forwarded-For"] == "203.0.113.9"
    uuid.UUID(request.headers["Idempotency-Key"])
    for request in (start.calls.last.request, get.calls.last.request):
        assert request.headers["Authorization"] == "Bearer payout-resource-token-SECRET"
        assert "Tl-Signature" not in request.headers


@pytest.mark.anyio
async def test_the_authorization_flow_needs_a_resource_token(tl: Session) -> None:
    with pytest.raises(e.InvalidParameterError, match="resource_token"):
        await tl.payouts.get_authorization_flow(samples.PAYOUT_ID, resource_token="")
    with pytest.raises(e.InvalidParameterError, match="return_uri"):
        await tl.payouts.start_authorization_flow(
            samples.PAYOUT_ID, resource_token="t", return_uri=""
        )


@pytest.mark.anyio
async def test_wait_for_polls_with_back_off_until_a_final_status(
    tl: Session, napping: ClockSleep
) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(PAYOUT).mock(
            side_effect=[
                httpx.Response(200, json=samples.PAYOUTS["pending"]),
                httpx.Response(200, json=samples.PAYOUTS["authorized"]),
                httpx.Response(200, json=samples.PAYOUTS["executed"]),
            ]
        )
        payout = await tl.payouts.wait_for(samples.PAYOUT_ID, timeout=30)
    assert isinstance(payout, PayoutExecuted)
    assert route.call_count == 3
    assert napping.delays == [1.0, 2.0]


@pytest.mark.anyio
async def test_wait_for_returns_a_payout_whose_status_it_does_not_know(
    tl: Session, napping: ClockSleep
) -> None:
    # A status newer than this SDK cannot be judged: the wait hands it over at once
    # rather than polling it until the timeout.
    held = {**samples.PAYOUTS["pending"], "status": "held_for_review"}
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(PAYOUT).mock(return_value=httpx.Response(200, json=held))
        payout = await tl.payouts.wait_for(samples.PAYOUT_ID, timeout=30)
    assert isinstance(payout, UnknownPayout) and payout.status == "held_for_review"
    assert payout.raw["status"] == "held_for_review"
    assert route.call_count == 1 and napping.delays == []


@pytest.mark.anyio
async def test_wait_for_stops_at_a_status_asked_for(tl: Session) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.get(PAYOUT).mock(return_value=httpx.Response(200, json=samples.PAYOUTS["pending"]))
        payout = await tl.payouts.wait_for(samples.PAYOUT_ID, statuses={"pending"})
    assert isinstance(payout, PayoutPending)


@pytest.mark.anyio
async def test_wait_for_times_out_on_the_clock_with_the_last_payout(
    tl: Session, napping: ClockSleep
) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.get(PAYOUT).mock(return_value=httpx.Response(200, json=samples.PAYOUTS["pending"]))
        with pytest.raises(e.WaitTimeoutError) as caught:
            await tl.payouts.wait_for(samples.PAYOUT_ID, timeout=10)
    assert isinstance(caught.value.last, PayoutPending)
    assert sum(napping.delays) == pytest.approx(10)
    with pytest.raises(e.InvalidParameterError, match="statuses"):
        await tl.payouts.wait_for(samples.PAYOUT_ID, statuses="executed")


def test_preselected_provider_id_sends_only_what_payouts_take() -> None:
    assert to_wire(PreselectedProviderId(provider_id="ob-natwest")) == {
        "type": "preselected",
        "provider_id": "ob-natwest",
    }


@pytest.mark.anyio
async def test_a_payout_scheme_selection_takes_no_payment_options(tl: Session) -> None:
    with pytest.raises(e.InvalidParameterError, match="takes no options"):
        await _create(
            tl,
            BENEFICIARIES["business_account"],
            scheme_selection=InstantPreferred(allow_remitter_fee=True),
        )
