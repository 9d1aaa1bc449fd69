"""Create (every provider selection × beneficiary), get (client and resource token),
every payment status through ``tl.payments.get``, both failure kinds, and cancel."""

from __future__ import annotations

import pytest

from tests.e2e_payments.helpers import GB_BANK, RETURN, create, external, merchant
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import (
    ActionProviderSelection,
    ActionRedirect,
    AuthorizationFlowOptions,
    BeneficiaryExternalAccount,
    BeneficiaryMerchantAccount,
    HostedPageOptions,
    PaymentAttemptFailed,
    PaymentAuthorizationRequired,
    PaymentAuthorized,
    PaymentAuthorizing,
    PaymentExecuted,
    PaymentFailed,
    PaymentSettled,
    ProviderSelectionOptions,
    ProviderSelectionPreselected,
    ProviderSelectionUserSelected,
    RedirectOptions,
)
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.anyio

FLOW = AuthorizationFlowOptions(
    provider_selection=ProviderSelectionOptions(), redirect=RedirectOptions(return_uri=RETURN)
)


@pytest.mark.parametrize("preselected", [False, True], ids=["user_selected", "preselected"])
@pytest.mark.parametrize("to_merchant", [True, False], ids=["merchant", "external"])
async def test_create_then_get_round_trips_the_payment(
    tl: Session, fake: FakeTrueLayer, preselected: bool, to_merchant: bool
) -> None:
    method = (
        merchant(preselected=preselected) if to_merchant else external(preselected=preselected)
    )
    created = await create(tl, method, amount_in_minor=1234, metadata={"order": "42"})
    assert created.status == "authorization_required"
    assert fake.payment_ids == [created.id]
    payment = await tl.payments.get(created.id)
    assert isinstance(payment, PaymentAuthorizationRequired)
    assert (payment.id, payment.amount_in_minor, payment.currency) == (created.id, 1234, "GBP")
    assert payment.metadata == {"order": "42"}
    assert payment.user is not None and payment.user.id == created.user.id
    bank_transfer = payment.payment_method
    assert isinstance(
        bank_transfer.beneficiary,  # type: ignore[union-attr]
        BeneficiaryMerchantAccount if to_merchant else BeneficiaryExternalAccount,
    )
    selection = bank_transfer.provider_selection  # type: ignore[union-attr]
    if preselected:
        assert isinstance(selection, ProviderSelectionPreselected)
        assert selection.provider_id == GB_BANK
    else:
        assert isinstance(selection, ProviderSelectionUserSelected)


async def test_get_with_the_resource_token_is_bound_to_its_payment(
    tl: Session, fake: FakeTrueLayer
) -> None:
    first = await create(tl)
    second = await create(tl)
    payment = await tl.payments.get(first.id, resource_token=first.resource_token)
    assert isinstance(payment, PaymentAuthorizationRequired) and payment.id == first.id
    # The token is really sent: another payment's token is refused for this one.
    with pytest.raises(e.PaymentsApiError) as refused:
        await tl.payments.get(first.id, resource_token=second.resource_token)
    assert refused.value.status_code == 403
    assert second.resource_token.get_secret_value() not in str(refused.value)


async def test_hosted_page_at_creation_links_to_the_emulators_page(
    tl: Session, fake: FakeTrueLayer
) -> None:
    created = await create(tl, hosted_page=HostedPageOptions(return_uri=RETURN))
    assert created.hosted_page is not None
    assert created.hosted_page.uri == tl.hosted_page.payment_url(
        payment_id=created.id, resource_token=created.resource_token, return_uri=RETURN
    )


async def test_authorization_flow_at_creation_starts_the_flow(
    tl: Session, fake: FakeTrueLayer
) -> None:
    created = await create(tl, authorization_flow=FLOW)
    assert created.status == "authorizing"
    assert created.authorization_flow is not None and created.authorization_flow.actions
    offered = created.authorization_flow.actions.next
    assert isinstance(offered, ActionProviderSelection)
    assert GB_BANK in [p.id for p in offered.providers]
    payment = await tl.payments.get(created.id)
    assert isinstance(payment, PaymentAuthorizing)


async def test_every_status_on_the_way_to_settled(tl: Session, fake: FakeTrueLayer) -> None:
    created = await create(tl)
    assert isinstance(await tl.payments.get(created.id), PaymentAuthorizationRequired)
    await tl.payments.start_authorization_flow(
        created.id,
        provider_selection=ProviderSelectionOptions(),
        redirect=RedirectOptions(return_uri=RETURN),
    )
    flow = await tl.payments.submit_provider_selection(created.id, GB_BANK)
    assert isinstance(flow.authorization_flow.actions.next, ActionRedirect)  # type: ignore[union-attr]
    authorizing = await tl.payments.get(created.id)
    assert isinstance(authorizing, PaymentAuthorizing)
    fake.authorize_payment(created.id, "executed", execution_delay=10, settlement_delay=10)
    authorized = await tl.payments.get(created.id)
    assert isinstance(authorized, PaymentAuthorized)
    fake.advance(10)
    executed = await tl.payments.get(created.id)
    assert isinstance(executed, PaymentExecuted)
    fake.advance(10)
    settled = await tl.payments.get(created.id)
    assert isinstance(settled, PaymentSettled)
    assert settled.executed_at == executed.executed_at < settled.settled_at


async def test_authorization_failure(tl: Session, fake: FakeTrueLayer) -> None:
    created = await create(tl)
    fake.authorize_payment(created.id, "authorization_failed")
    failed = await tl.payments.get(created.id)
    assert isinstance(failed, PaymentFailed)
    assert (failed.failure_stage, failed.failure_reason) == ("authorizing", "authorization_failed")


async def test_authorization_failure_with_retry_is_an_attempt_failed(
    tl: Session, fake: FakeTrueLayer
) -> None:
    created = await create(tl, merchant(retry=True))
    fake.authorize_payment(created.id, "authorization_failed")
    attempt = await tl.payments.get(created.id)
    assert isinstance(attempt, PaymentAttemptFailed)
    assert (attempt.failure_stage, attempt.failure_reason) == (
        "authorizing",
        "authorization_failed",
    )


async def test_execution_rejected(tl: Session, fake: FakeTrueLayer) -> None:
    created = await create(tl, external())
    fake.authorize_payment(created.id, "execution_rejected")
    assert isinstance(await tl.payments.get(created.id), PaymentAuthorized)
    fake.advance(fake.payment_timing.execution_delay)
    failed = await tl.payments.get(created.id)
    assert isinstance(failed, PaymentFailed)
    assert (failed.failure_stage, failed.failure_reason) == ("authorized", "provider_rejected")


async def test_cancel_before_authorisation(tl: Session, fake: FakeTrueLayer) -> None:
    created = await create(tl)
    assert await tl.payments.cancel(created.id) is None
    canceled = await tl.payments.get(created.id)
    assert isinstance(canceled, PaymentFailed)
    assert (canceled.failure_stage, canceled.failure_reason) == (
        "authorization_required",
        "canceled",
    )


async def test_cancel_after_authorisation_is_invalid_state(
    tl: Session, fake: FakeTrueLayer
) -> None:
    created = await create(tl)
    fake.authorize_payment(created.id, "executed", execution_delay=60)
    with pytest.raises(e.PaymentsApiError) as late:
        await tl.payments.cancel(created.id, resource_token=created.resource_token)
    assert (late.value.status_code, late.value.error) == (400, "Invalid State")
    assert isinstance(await tl.payments.get(created.id), PaymentAuthorized)
