"""The authorization flow through ``tl.payments``: start, provider, scheme, form and
consent steps, the redirect to the (mock) bank and back through
``submit_provider_return``, user-account selection and ``save_user_account``."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.e2e_payments.helpers import EXTERNAL_EUR, GB_BANK, RETURN, create, external
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import (
    ActionConsent,
    ActionForm,
    ActionProviderSelection,
    ActionRedirect,
    ActionSchemeSelection,
    AuthorizationFlowAuthorizing,
    AuthorizationFlowResult,
    BankTransfer,
    ConsentOptions,
    FormOptions,
    NextAction,
    PaymentAuthorized,
    ProviderFilter,
    ProviderReturnPayment,
    ProviderSelectionOptions,
    RedirectOptions,
    SchemeSelectionOptions,
    UserSelectedProvider,
    UserSelectedScheme,
)
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.anyio

DIRECT = "https://shop.example/direct"


def next_of(result: AuthorizationFlowResult) -> NextAction:
    """The ``next`` action of an authorizing flow result."""
    assert isinstance(result, AuthorizationFlowAuthorizing), result
    assert result.authorization_flow is not None and result.authorization_flow.actions
    return result.authorization_flow.actions.next


async def authorise_at_the_bank(fake: FakeTrueLayer, action: NextAction) -> str:
    """Log in at the mock bank the redirect action points to; the ``Location`` back."""
    assert isinstance(action, ActionRedirect)
    async with fake.http_client() as browser:
        back = await browser.post(action.uri, data={"username": "test_executed"})
    assert back.status_code == 303, back.text
    return back.headers["location"]


def eur(country: str) -> BankTransfer:
    """A EUR transfer where the user picks a bank in ``country`` and, if asked, a scheme."""
    return BankTransfer(
        provider_selection=UserSelectedProvider(
            filter=ProviderFilter(countries=[country]), scheme_selection=UserSelectedScheme()
        ),
        beneficiary=EXTERNAL_EUR,
    )


async def test_provider_then_scheme_then_consent_then_the_bank(
    tl: Session, fake: FakeTrueLayer
) -> None:
    created = await create(tl, eur("FI"), currency="EUR")
    started = await tl.payments.start_authorization_flow(
        created.id,
        provider_selection=ProviderSelectionOptions(),
        scheme_selection=SchemeSelectionOptions(),
        consent=ConsentOptions(),
        redirect=RedirectOptions(return_uri=RETURN, direct_return_uri=DIRECT),
        resource_token=created.resource_token,
    )
    providers = next_of(started)
    assert isinstance(providers, ActionProviderSelection)
    assert [p.id for p in providers.providers] == ["mock-payments-fi-redirect"]
    schemes = next_of(
        await tl.payments.submit_provider_selection(created.id, "mock-payments-fi-redirect")
    )
    assert isinstance(schemes, ActionSchemeSelection) and len(schemes.schemes) == 2
    chosen = schemes.schemes[1].id
    consent = next_of(await tl.payments.submit_scheme_selection(created.id, chosen))
    assert isinstance(consent, ActionConsent)
    redirect = next_of(
        await tl.payments.submit_consent(created.id, resource_token=created.resource_token)
    )
    back = await authorise_at_the_bank(fake, redirect)
    assert back.startswith(DIRECT + "?state=")
    returned = await tl.payments.submit_provider_return(query=urlsplit(back).query)
    assert returned.resource == ProviderReturnPayment(payment_id=created.id)
    payment = await tl.payments.get(created.id)
    assert isinstance(payment, PaymentAuthorized)
    assert payment.payment_method.provider_selection.scheme_id == chosen  # type: ignore[union-attr]


async def test_a_form_step_and_a_fragment_return(tl: Session, fake: FakeTrueLayer) -> None:
    created = await create(tl, eur("ES"), currency="EUR")
    await tl.payments.start_authorization_flow(
        created.id,
        provider_selection=ProviderSelectionOptions(),
        form=FormOptions(input_types=["select"]),
        redirect=RedirectOptions(return_uri=RETURN),
    )
    form = next_of(
        await tl.payments.submit_provider_selection(created.id, "mock-payments-es-branch-redirect")
    )
    assert isinstance(form, ActionForm)
    field = form.inputs[0]
    with pytest.raises(e.PaymentsApiError) as bad:
        await tl.payments.submit_form(created.id, {field["id"]: "no-such-branch"})
    assert bad.value.status_code == 400 and bad.value.errors
    redirect = next_of(
        await tl.payments.submit_form(created.id, {field["id"]: field["options"][0]["id"]})
    )
    back = await authorise_at_the_bank(fake, redirect)
    assert back == f"{RETURN}?payment_id={created.id}"
    # A bank answering in the fragment is forwarded the same way.
    returned = await tl.payments.submit_provider_return(fragment=urlsplit(back).query)
    assert returned.resource == ProviderReturnPayment(payment_id=created.id)


async def test_an_action_out_of_turn_is_invalid_state(tl: Session, fake: FakeTrueLayer) -> None:
    created = await create(tl)
    await tl.payments.start_authorization_flow(
        created.id,
        provider_selection=ProviderSelectionOptions(),
        redirect=RedirectOptions(return_uri=RETURN),
    )
    with pytest.raises(e.PaymentsApiError) as early:
        await tl.payments.submit_consent(created.id)
    assert (early.value.status_code, early.value.error) == (400, "Invalid State")
    assert isinstance(
        next_of(await tl.payments.submit_provider_selection(created.id, GB_BANK)), ActionRedirect
    )


async def test_user_account_selection_is_not_emulated(tl: Session, fake: FakeTrueLayer) -> None:
    """The emulator keeps no returning users, so it never asks for an account: the action
    is answered like any action out of turn (documented in docs/design.md)."""
    created = await create(tl)
    await tl.payments.start_authorization_flow(
        created.id,
        provider_selection=ProviderSelectionOptions(),
        redirect=RedirectOptions(return_uri=RETURN),
    )
    with pytest.raises(e.PaymentsApiError) as refused:
        await tl.payments.submit_user_account_selection(created.id)
    assert (refused.value.status_code, refused.value.error) == (400, "Invalid State")
    assert "user_account_selection" in (refused.value.description or "")


async def test_provider_return_naming_no_payment_is_refused(
    tl: Session, fake: FakeTrueLayer
) -> None:
    with pytest.raises(e.PaymentsApiError) as refused:
        await tl.payments.submit_provider_return(query="state=unknown")
    assert refused.value.status_code == 400 and "query" in refused.value.errors


async def test_save_user_account(tl: Session, fake: FakeTrueLayer) -> None:
    created = await create(tl)
    fake.authorize_payment(created.id, "executed")
    assert await tl.payments.save_user_account(created.id) is None
    elsewhere = await create(tl, external())
    with pytest.raises(e.PaymentsApiError) as refused:
        await tl.payments.save_user_account(elsewhere.id, resource_token=elsewhere.resource_token)
    assert (refused.value.status_code, refused.value.error) == (400, "Invalid State")
