"""``tl.mandates`` on the wire (respx): create (sweeping and commercial, with constraints)
signed, keyed and schema-valid; scopes by mandate type, configured on the Session or per
service, each in its own token slot; list as cursor + limit pages; the authorization flow
signed only with the client token; revoke, funds and constraints."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support import payout_samples as samples
from tests.support.payments_schema import request_fits
from tests.support.payouts_openapi import validate
from tests.support.signed_payments import API, KID, grant, problem, signed_by
from tests.support.signing_keys import pem_of
from tests.support.token_endpoint import REDIRECT, TOKEN_URL, form_of
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import (
    ActionProviderSelection,
    ActionRedirect,
    AuthorizationFlowAuthorizing,
    AuthorizationFlowFailed,
    CommercialMandate,
    CreatedMandate,
    FundsConfirmation,
    Iban,
    InstantOnly,
    MandateAuthorized,
    MandateConstraintsInput,
    MandateConstraintsUsage,
    MandateExternalAccount,
    MandateMerchantAccount,
    MandateRevoked,
    PaymentUser,
    PayoutVerificationInput,
    PeriodicLimitInput,
    PeriodicLimitsInput,
    PreselectedProviderId,
    ProviderFilter,
    RemitterInput,
    SortCodeAccountNumber,
    SweepingMandate,
    UserDeterminedBeneficiary,
    UserSelectedProvider,
)
from truelayer_async.testing import FakeClock

MANDATE = f"{API}/mandates/{samples.MANDATE_ID}"
USER = PaymentUser(name="Ada Lovelace", email="ada@example.com")
CONSTRAINTS = MandateConstraintsInput(
    maximum_individual_amount=5000,
    periodic_limits=PeriodicLimitsInput(
        month=PeriodicLimitInput(maximum_amount=20000, period_alignment="calendar"),
        day=PeriodicLimitInput(maximum_amount=5000, period_alignment="consent"),
    ),
    valid_from=datetime(2024, 5, 1, tzinfo=timezone.utc),
    valid_to=datetime(2025, 5, 1, tzinfo=timezone.utc),
)
SWEEPING = SweepingMandate(
    provider_selection=UserSelectedProvider(filter=ProviderFilter(countries=["GB"])),
    beneficiary=MandateMerchantAccount(merchant_account_id=samples.MA_ID),
    reference="SWEEP-1",
)
COMMERCIAL = CommercialMandate(
    provider_selection=PreselectedProviderId(
        provider_id="ob-natwest-vrp-sandbox",
        remitter=RemitterInput(
            account_holder_name="Ada",
            account_identifier=SortCodeAccountNumber(
                sort_code="040668", account_number="00000871"
            ),
        ),
    ),
    beneficiary=MandateExternalAccount(
        account_holder_name="Acme Ltd", account_identifier=Iban(iban="GB33BUKB20201555555555")
    ),
    statement_reference="ACME SUB",
)


def query(request: httpx.Request) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(request.url.query.decode()).items()}


def scope_of(route: respx.Route) -> list[str]:
    return [form_of(call.request)["scope"] for call in route.calls]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("mandate", "scope"),
    [(SWEEPING, "recurring_payments:sweeping"), (COMMERCIAL, "recurring_payments:commercial")],
)
async def test_create_is_signed_keyed_valid_and_scoped_by_type(
    tl: Session, key: ec.EllipticCurvePrivateKey, mandate: Any, scope: str
) -> None:
    with respx.mock(assert_all_called=True) as wire:
        token = wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{API}/mandates").mock(
            return_value=httpx.Response(201, json=samples.CREATED_MANDATE)
        )
        created = await tl.mandates.create(
            mandate=mandate,
            currency="GBP",
            user=USER,
            constraints=CONSTRAINTS,
            metadata={"plan": "gold"},
        )
    assert isinstance(created, CreatedMandate)
    assert created.resource_token is not None
    assert scope_of(token) == [scope]
    request = route.calls.last.request
    signed_by(request, key)
    uuid.UUID(request.headers["Idempotency-Key"], version=4)
    body = request_fits(request, "/v3/mandates")
    assert body["mandate"]["type"] == mandate.type
    assert body["constraints"] == {
        "maximum_individual_amount": 5000,
        "periodic_limits": {
            "day": {"maximum_amount": 5000, "period_alignment": "consent"},
            "month": {"maximum_amount": 20000, "period_alignment": "calendar"},
        },
        "valid_from": "2024-05-01T00:00:00+00:00",
        "valid_to": "2025-05-01T00:00:00+00:00",
    }
    assert body["metadata"] == {"plan": "gold"}


@pytest.mark.anyio
async def test_a_created_mandate_retried_keeps_its_key(tl: Session) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{API}/mandates").mock(
            side_effect=[
                httpx.Response(502),
                httpx.Response(201, json=samples.CREATED_MANDATE_AUTHORIZING),
                problem(
                    409,
                    "idempotency-key-concurrency-conflict",
                    "Idempotency-Key Concurrency Conflict",
                ),
            ]
        )
        created = await tl.mandates.create(
            mandate=SWEEPING, currency="GBP", user=USER, constraints=CONSTRAINTS
        )
        with pytest.raises(e.IdempotencyConflictError):
            await tl.mandates.create(
                mandate=SWEEPING, currency="GBP", user=USER, constraints=CONSTRAINTS
            )
    assert created.status == "authorizing" and created.resource_token is None
    first, second, third = (call.request for call in route.calls)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert first.content == second.content
    assert third.headers["Idempotency-Key"] != first.headers["Idempotency-Key"]


@pytest.mark.anyio
async def test_scopes_configured_on_the_session_apply_to_every_call(
    key: ec.EllipticCurvePrivateKey, clock: FakeClock
) -> None:
    async with Session(
        "client",
        "secret",
        redirect_uri=REDIRECT,
        clock=clock,
        signing_key_id=KID,
        signing_private_key=pem_of(key),
        mandate_scopes=["mandates"],
    ) as session:
        assert session.mandates.scopes == ("mandates",)
        with respx.mock() as wire:
            token = wire.post(TOKEN_URL).mock(side_effect=[grant(1), grant(2)])
            wire.post(f"{API}/mandates").mock(
                return_value=httpx.Response(201, json=samples.CREATED_MANDATE)
            )
            wire.get(MANDATE).mock(
                return_value=httpx.Response(200, json=samples.MANDATES["authorized"])
            )
            await session.mandates.create(
                mandate=COMMERCIAL, currency="GBP", user=USER, constraints=CONSTRAINTS
            )
            await session.mandates.get(samples.MANDATE_ID)
            # The payments scope is a separate slot: its own token.
            wire.get(f"{API}/payouts/{samples.PAYOUT_ID}").mock(
                return_value=httpx.Response(200, json=samples.PAYOUTS["pending"])
            )
            await session.payouts.get(samples.PAYOUT_ID)
    assert scope_of(token) == ["mandates", "payments"]


@pytest.mark.anyio
async def test_each_scope_set_has_its_own_cached_token(tl: Session) -> None:
    with respx.mock() as wire:
        token = wire.post(TOKEN_URL).mock(side_effect=[grant(1), grant(2), grant(3)])
        route = wire.get(MANDATE).mock(
            return_value=httpx.Response(200, json=samples.MANDATES["authorized"])
        )
        commercial = tl.mandates.with_scopes("recurring_payments:commercial")
        await tl.mandates.get(samples.MANDATE_ID)
        await commercial.get(samples.MANDATE_ID)
        await tl.mandates.get(samples.MANDATE_ID)
        await commercial.get(samples.MANDATE_ID)
    assert scope_of(token) == ["recurring_payments:sweeping", "recurring_payments:commercial"]
    bearers = [call.request.headers["Authorization"] for call in route.calls]
    assert bearers == ["Bearer cc-1", "Bearer cc-2", "Bearer cc-1", "Bearer cc-2"]


def test_bad_scope_settings_are_configuration_errors() -> None:
    with pytest.raises(e.ConfigurationError, match="scope"):
        Session("client", "secret", mandate_scopes="recurring_payments:sweeping")
    with pytest.raises(e.ConfigurationError, match="scope"):
        Session("client", "secret", mandate_scopes=[])


@pytest.mark.anyio
async def test_list_walks_cursor_pages_with_the_user_filter_and_a_total_limit(
    tl: Session,
) -> None:
    def mandates(first: int, count: int) -> list[dict[str, Any]]:
        return [
            {**samples.MANDATES["authorized"], "id": f"m-{n}"} for n in range(first, first + count)
        ]

    pages = [
        {"items": mandates(0, 50), "pagination": {"next_cursor": "c1"}},
        {"items": mandates(50, 50), "pagination": {"next_cursor": "c2"}},
        {"items": mandates(100, 20), "pagination": {}},
    ]
    for body in pages:  # the envelope; the item is the sample test_models checks
        validate({**body, "items": []}, "ListMandates")
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(f"{API}/mandates").mock(
            side_effect=[httpx.Response(200, json=body) for body in pages]
        )
        everything = [m async for m in tl.mandates.list(user_id="user-1")]
    assert [m.id for m in everything] == [f"m-{n}" for n in range(120)]
    assert all(isinstance(m, MandateAuthorized) for m in everything)
    sent = [query(call.request) for call in route.calls]
    assert sent == [
        {"user_id": "user-1", "limit": "50"},
        {"user_id": "user-1", "limit": "50", "cursor": "c1"},
        {"user_id": "user-1", "limit": "50", "cursor": "c2"},
    ]
    with respx.mock(assert_all_called=False) as wire:  # the token is cached by now
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(f"{API}/mandates").mock(
            side_effect=[httpx.Response(200, json=body) for body in pages]
        )
        few = [m async for m in tl.mandates.list(limit=7)]
    assert len(few) == 7 and route.call_count == 1
    assert query(route.calls.last.request) == {"limit": "7"}
    with pytest.raises(e.InvalidParameterError, match="limit"):
        tl.mandates.list(limit=-1)


@pytest.mark.anyio
async def test_get_with_the_resource_token_or_the_client_token(tl: Session) -> None:
    with respx.mock() as wire:
        token = wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(MANDATE).mock(
            side_effect=[
                httpx.Response(200, json=samples.MANDATES["authorized"]),
                httpx.Response(200, json=samples.MANDATES["revoked"]),
            ]
        )
        by_token = await tl.mandates.get(
            samples.MANDATE_ID, resource_token="mandate-resource-token-SECRET"
        )
        by_client = await tl.mandates.get(samples.MANDATE_ID)
    assert isinstance(by_token, MandateAuthorized) and isinstance(by_client, MandateRevoked)
    first, second = (call.request.headers["Authorization"] for call in route.calls)
    assert first == "Bearer mandate-resource-token-SECRET"
    assert second == "Bearer cc-1" and token.call_count == 1


@pytest.mark.anyio
async def test_the_authorization_flow_is_signed_only_with_the_client_token(
    tl: Session, key: ec.EllipticCurvePrivateKey
) -> None:
    with respx.mock(assert_all_called=True) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        start = wire.post(f"{MANDATE}/authorization-flow").mock(
            side_effect=[
                httpx.Response(200, json=samples.MANDATE_FLOWS["provider_selection"]),
                httpx.Response(200, json=samples.MANDATE_FLOWS["failed"]),
            ]
        )
        select = wire.post(f"{MANDATE}/authorization-flow/actions/provider-selection").mock(
            return_value=httpx.Response(200, json=samples.MANDATE_FLOWS["consent"])
        )
        consent = wire.post(f"{MANDATE}/authorization-flow/actions/consent").mock(
            return_value=httpx.Response(
                200,
                json={
                    "status": "authorizing",
                    "authorization_flow": {
                        "actions": {"next": {"type": "redirect", "uri": "https://bank.example"}}
                    },
                },
            )
        )
        started = await tl.mandates.start_authorization_flow(
            samples.MANDATE_ID, return_uri="https://shop.example/return"
        )
        failed = await tl.mandates.start_authorization_flow(
            samples.MANDATE_ID,
            return_uri="https://shop.example/return",
            resource_token="mandate-resource-token-SECRET",
        )
        selected = await tl.mandates.submit_provider_selection(
            samples.MANDATE_ID, "ob-natwest-vrp-sandbox"
        )
        consented = await tl.mandates.submit_consent(
            samples.MANDATE_ID, resource_token="mandate-resource-token-SECRET"
        )
    assert isinstance(started, AuthorizationFlowAuthorizing)
    assert started.authorization_flow.actions is not None
    assert isinstance(started.authorization_flow.actions.next, ActionProviderSelection)
    assert isinstance(failed, AuthorizationFlowFailed)
    assert isinstance(selected, AuthorizationFlowAuthorizing)
    assert isinstance(consented, AuthorizationFlowAuthorizing)
    assert consented.authorization_flow.actions is not None
    assert isinstance(consented.authorization_flow.actions.next, ActionRedirect)

    with_client, with_resource = (call.request for call in start.calls)
    signed_by(with_client, key)
    assert with_client.headers["Authorization"] == "Bearer cc-1"
    assert "Tl-Signature" not in with_resource.headers
    assert with_resource.headers["Authorization"] == "Bearer mandate-resource-token-SECRET"
    path = "/v3/mandates/{id}/authorization-flow"
    assert request_fits(with_client, path) == {
        "provider_selection": {},
        "redirect": {"return_uri": "https://shop.example/return"},
    }
    assert request_fits(with_resource, path) == request_fits(with_client, path)
    signed_by(select.calls.last.request, key)
    assert request_fits(select.calls.last.request, f"{path}/actions/provider-selection") == {
        "provider_id": "ob-natwest-vrp-sandbox"
    }
    assert "Tl-Signature" not in consent.calls.last.request.headers
    request_fits(consent.calls.last.request, f"{path}/actions/consent")


@pytest.mark.anyio
async def test_revoke_is_signed_and_keyed_and_invalid_state_is_typed(
    tl: Session, key: ec.EllipticCurvePrivateKey
) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{MANDATE}/revoke").mock(
            side_effect=[
                httpx.Response(204),
                problem(400, "invalid_state", "Invalid State"),
            ]
        )
        assert await tl.mandates.revoke(samples.MANDATE_ID, idempotency_key="revoke-1") is None
        with pytest.raises(e.PaymentsApiError) as caught:
            await tl.mandates.revoke(samples.MANDATE_ID)
    request = route.calls[0].request
    signed_by(request, key)
    assert request.headers["Idempotency-Key"] == "revoke-1"
    assert request.content == b""
    assert caught.value.status_code == 400


@pytest.mark.anyio
async def test_funds_and_constraints(tl: Session) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        funds = wire.get(f"{MANDATE}/funds").mock(
            return_value=httpx.Response(200, json=samples.FUNDS)
        )
        wire.get(f"{MANDATE}/constraints").mock(
            return_value=httpx.Response(200, json=samples.CONSTRAINTS_USAGE)
        )
        confirmed = await tl.mandates.confirm_funds(
            samples.MANDATE_ID, amount_in_minor=1000, currency="GBP"
        )
        usage = await tl.mandates.constraints(samples.MANDATE_ID)
    assert isinstance(confirmed, FundsConfirmation) and confirmed.confirmed
    assert query(funds.calls.last.request) == {"amount_in_minor": "1000", "currency": "GBP"}
    assert isinstance(usage, MandateConstraintsUsage)
    with pytest.raises(e.InvalidParameterError, match="currency"):
        await tl.mandates.confirm_funds(samples.MANDATE_ID, amount_in_minor=1, currency="PLN")
    with pytest.raises(e.InvalidParameterError, match="amount_in_minor"):
        await tl.mandates.confirm_funds(samples.MANDATE_ID, amount_in_minor=0, currency="GBP")


@pytest.mark.anyio
async def test_create_needs_a_signing_key_and_sends_nothing_without_one() -> None:
    async with Session("client", "secret", redirect_uri=REDIRECT) as session:
        with respx.mock(assert_all_called=False) as wire:
            route = wire.route().mock(return_value=httpx.Response(500))
            with pytest.raises(e.ConfigurationError, match="signing_key_id"):
                await session.mandates.create(
                    mandate=SWEEPING, currency="GBP", user=USER, constraints=CONSTRAINTS
                )
            with pytest.raises(e.ConfigurationError):
                await session.mandates.revoke(samples.MANDATE_ID)
    assert not route.called


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"currency": "PLN"}, "currency"),
        ({"mandate": "sweeping"}, "mandate"),
        ({"constraints": {"maximum_individual_amount": 1}}, "constraints"),
        ({"user": None}, "user"),
        ({"metadata": {"k" * 41: "v"}}, "metadata"),
    ],
)
async def test_bad_create_arguments_raise_before_anything_is_sent(
    tl: Session, kwargs: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {
        "mandate": SWEEPING,
        "currency": "GBP",
        "user": USER,
        "constraints": CONSTRAINTS,
        **kwargs,
    }
    with respx.mock(assert_all_called=False) as wire:
        route = wire.route().mock(return_value=httpx.Response(500))
        with pytest.raises(e.InvalidParameterError, match=message):
            await tl.mandates.create(**arguments)
    assert not route.called


def test_mandate_inputs_check_their_fields() -> None:
    limit = PeriodicLimitInput(maximum_amount=100, period_alignment="consent")
    with pytest.raises(e.InvalidParameterError, match=r"periodic_limits\.week\.maximum_amount"):
        MandateConstraintsInput(
            maximum_individual_amount=101, periodic_limits=PeriodicLimitsInput(week=limit)
        )
    with pytest.raises(e.InvalidParameterError, match="maximum_individual_amount"):
        MandateConstraintsInput(
            maximum_individual_amount=100_000_001,
            periodic_limits=PeriodicLimitsInput(week=limit),
        )
    with pytest.raises(e.InvalidParameterError, match="at least one"):
        PeriodicLimitsInput()
    with pytest.raises(e.InvalidParameterError, match="period_alignment"):
        PeriodicLimitInput(maximum_amount=1, period_alignment="rolling")
    with pytest.raises(e.InvalidParameterError, match="valid_from"):
        MandateConstraintsInput(
            maximum_individual_amount=1,
            periodic_limits=PeriodicLimitsInput(week=limit),
            valid_from=datetime(2024, 5, 1),
        )
    with pytest.raises(e.InvalidParameterError, match="valid_to"):
        MandateConstraintsInput(
            maximum_individual_amount=1,
            periodic_limits=PeriodicLimitsInput(week=limit),
            valid_from=datetime(2024, 5, 2, tzinfo=timezone.utc),
            valid_to=datetime(2024, 5, 1, tzinfo=timezone.utc),
        )
    with pytest.raises(e.InvalidParameterError, match=r"SweepingMandate\.reference"):
        SweepingMandate(
            provider_selection=UserSelectedProvider(),
            beneficiary=MandateMerchantAccount(merchant_account_id="ma"),
            reference="x" * 19,
        )
    with pytest.raises(e.InvalidParameterError, match=r"CommercialMandate\.beneficiary"):
        CommercialMandate(
            provider_selection=UserSelectedProvider(),
            beneficiary="ma",  # type: ignore[arg-type]
        )
    with pytest.raises(e.InvalidParameterError, match=r"MandateExternalAccount\.account_holder"):
        MandateExternalAccount(
            account_holder_name="Acme (UK)", account_identifier=Iban(iban="GB33BUKB20201555555555")
        )


def test_user_selected_providers_take_only_a_filter_on_mandates_and_payouts() -> None:
    with pytest.raises(e.InvalidParameterError, match=r"SweepingMandate\.provider_selection"):
        SweepingMandate(
            provider_selection=UserSelectedProvider(scheme_selection=InstantOnly()),
            beneficiary=MandateMerchantAccount(merchant_account_id="ma"),
        )
    verification = PayoutVerificationInput(verify_name=True)
    with pytest.raises(e.InvalidParameterError, match="UserDeterminedBeneficiary"):
        UserDeterminedBeneficiary(
            reference="r",
            user=USER,
            verification=verification,
            provider_selection=UserSelectedProvider(
                remitter=RemitterInput(account_holder_name="A")
            ),
        )
    with pytest.raises(e.InvalidParameterError, match="countries GB only"):
        UserDeterminedBeneficiary(
            reference="r",
            user=USER,
            verification=verification,
            provider_selection=UserSelectedProvider(filter=ProviderFilter(countries=["FR"])),
        )
    UserDeterminedBeneficiary(
        reference="r",
        user=USER,
        verification=verification,
        provider_selection=UserSelectedProvider(filter=ProviderFilter(countries=["GB"])),
    )
