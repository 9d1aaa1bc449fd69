"""``tl.signup_plus``: on the wire (respx), and against the emulator (in-process and
served): amount bands, the Finnish auth-URI step, mandates, and the UK data-only flow."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from tests.support.signed_payments import grant
from tests.support.token_endpoint import TOKEN_URL
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import (
    BankTransfer,
    MandateConstraintsInput,
    MandateMerchantAccount,
    MerchantAccountBeneficiary,
    PaymentUser,
    PeriodicLimitInput,
    PeriodicLimitsInput,
    SweepingMandate,
    UserSelectedProvider,
)
from truelayer_async.testing import DEFAULT_REDIRECT_URI, FakeTrueLayer

pytestmark = pytest.mark.anyio

SIGNUP = "https://api.truelayer-sandbox.com/signup-plus"
IDENTITY = {
    "first_name": "Sherlock",
    "last_name": "Holmes",
    "date_of_birth": "1854-01-06",
    "address": {
        "address_line1": "221B Baker Street",
        "city": "London",
        "zip": "NW1 6XE",
        "country": "GB",
        "floor": 2,
    },
    "account_details": {
        "account_number": "10000001",
        "sort_code": "04-00-04",
        "iban": "GB29MOCK04000410000001",
        "provider_id": "ob-mock",
    },
    "loyalty": "gold",
}
USER = PaymentUser(name="Ada Lovelace", email="ada@example.com")
TO_MERCHANT = BankTransfer(
    provider_selection=UserSelectedProvider(),
    beneficiary=MerchantAccountBeneficiary(merchant_account_id="ma-1", reference="Signup"),
)


async def test_by_payment_sends_a_client_token_for_signupplus(tl: Session) -> None:
    with respx.mock() as wire:
        token = wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(f"{SIGNUP}/payments").mock(
            return_value=httpx.Response(200, json=IDENTITY)
        )
        found = await tl.signup_plus.by_payment("pay-1")
    assert "signupplus" in parse_qs(token.calls.last.request.content.decode())["scope"][0]
    request = route.calls.last.request
    assert request.url.params["payment_id"] == "pay-1"
    assert request.headers["Authorization"] == "Bearer cc-1"
    assert found.first_name == "Sherlock" and found.date_of_birth == date(1854, 1, 6)
    assert found.address is not None and found.address.raw["floor"] == 2
    assert found.raw["loyalty"] == "gold"
    assert "1854" not in repr(found) and "10000001" not in repr(found)


async def test_by_mandate_and_the_finnish_steps_on_the_wire(tl: Session) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        mandates = wire.get(f"{SIGNUP}/mandates").mock(
            return_value=httpx.Response(200, json=IDENTITY)
        )
        auth = wire.post(f"{SIGNUP}/authuri").mock(
            return_value=httpx.Response(200, json={"auth_uri": "https://bank.fi/a"})
        )
        payments = wire.get(f"{SIGNUP}/payments").mock(
            return_value=httpx.Response(200, json={**IDENTITY, "sex": "F"})
        )
        await tl.signup_plus.by_mandate("man-1")
        uri = await tl.signup_plus.finnish_auth_uri("pay-9", state="s-1")
        finnish = await tl.signup_plus.by_payment("pay-9", authorization_reference="ref-1")
    assert mandates.calls.last.request.url.params["mandate_id"] == "man-1"
    assert uri == "https://bank.fi/a"
    assert auth.calls.last.request.content == b'{"payment_id":"pay-9","state":"s-1"}'
    assert payments.calls.last.request.url.params["authorization_reference"] == "ref-1"
    assert finnish.sex == "F"


@pytest.mark.parametrize("bad", ["", None, "a\nb"])
async def test_bad_ids_are_refused_before_sending(tl: Session, bad: object) -> None:
    with respx.mock() as wire, pytest.raises(e.InvalidParameterError):
        await tl.signup_plus.by_payment(bad)  # type: ignore[arg-type]
    assert not wire.calls


async def _settled(fake: FakeTrueLayer, tl: Session, amount: int, currency: str = "GBP") -> str:
    created = await tl.payments.create(
        amount_in_minor=amount, currency=currency, payment_method=TO_MERCHANT, user=USER
    )
    fake.authorize_payment(created.id)
    fake.advance(3600)
    return created.id


@pytest.mark.parametrize(
    ("amount", "first_name"),
    [
        (1000, "Sherlock"),
        (1799, "Sherlock"),
        (1800, "John"),
        (2099, "John"),
        (2100, "Martha"),
        (2199, "Martha"),
        (5000, "Sherlock"),
    ],
)
async def test_the_sandbox_amount_bands_pick_the_test_user(
    fake: FakeTrueLayer, amount: int, first_name: str
) -> None:
    async with fake.session() as tl:
        payment_id = await _settled(fake, tl, amount)
        found = await tl.signup_plus.by_payment(payment_id)
    assert found.first_name == first_name
    assert found.account_details is not None and found.account_details.sort_code == "04-00-04"


@pytest.mark.parametrize(
    ("amount", "status"), [(10_000, 400), (24_999, 400), (25_000, 404), (40_000, 404)]
)
async def test_the_error_bands(fake: FakeTrueLayer, amount: int, status: int) -> None:
    async with fake.session() as tl:
        payment_id = await _settled(fake, tl, amount)
        with pytest.raises(e.SignupPlusApiError) as raised:
            await tl.signup_plus.by_payment(payment_id)
    assert raised.value.status_code == status and raised.value.api == "signup_plus"
    assert not isinstance(raised.value, e.PaymentsApiError)
    assert raised.value.problem_type is not None and "signup-errors#" in raised.value.problem_type


async def test_an_unsettled_payment_and_a_mandate_are_refused(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        created = await tl.payments.create(
            amount_in_minor=1000, currency="GBP", payment_method=TO_MERCHANT, user=USER
        )
        with pytest.raises(e.SignupPlusApiError) as early:
            await tl.signup_plus.by_payment(created.id)
        with pytest.raises(e.SignupPlusApiError) as mandate:
            await tl.signup_plus.by_mandate("mandate-1")
    assert early.value.status_code == 400 and mandate.value.status_code == 404


async def test_an_authorized_mandate_finds_its_user(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        created = await tl.mandates.create(
            mandate=SweepingMandate(
                provider_selection=UserSelectedProvider(),
                beneficiary=MandateMerchantAccount(
                    merchant_account_id=fake.merchant_account_id("GBP")
                ),
            ),
            currency="GBP",
            user=USER,
            constraints=MandateConstraintsInput(
                maximum_individual_amount=1000,
                periodic_limits=PeriodicLimitsInput(
                    month=PeriodicLimitInput(maximum_amount=5000, period_alignment="consent")
                ),
            ),
        )
        with pytest.raises(e.SignupPlusApiError) as early:
            await tl.signup_plus.by_mandate(created.id)  # not authorised yet
        fake.authorize_mandate(created.id)
        found = await tl.signup_plus.by_mandate(created.id)
    assert early.value.status_code == 400
    assert found.first_name == "Sherlock"


async def test_finland_needs_the_auth_uri_step(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        payment_id = await _settled(fake, tl, 1000, "EUR")
        with pytest.raises(e.SignupPlusApiError):
            await tl.signup_plus.by_payment(payment_id)
        uri = await tl.signup_plus.finnish_auth_uri(payment_id, state="st-1")
        async with fake.http_client() as browser:
            assert (await browser.get(uri)).status_code == 200
            back = await browser.post(uri)
        location = back.headers["location"]
        assert location.startswith(DEFAULT_REDIRECT_URI)
        query = parse_qs(urlsplit(location).query)
        assert query["state"] == ["st-1"]
        found = await tl.signup_plus.by_payment(
            payment_id, authorization_reference=query["authorization_reference"][0]
        )
    assert found.national_identification_number and found.sex == "F"
    assert found.address is not None and found.address.country == "FI"


async def test_the_uk_data_only_flow_uses_the_users_signupplus_token(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        await fake.connect(tl, user="alice", scopes=["info", "signupplus"])
        found = await tl.signup_plus.for_user("alice")
        await fake.connect(tl, user="bob", scopes=["info", "accounts"])
        with pytest.raises(e.InsufficientScopeError):
            await tl.signup_plus.for_user("bob")
    assert found.first_name == "John" and found.last_name == "Doe"
    assert found.account_details is not None and found.account_details.iban


async def test_signup_plus_served_on_loopback(fake: FakeTrueLayer) -> None:
    with fake.serve_in_thread():
        async with fake.session(http_client=None) as tl:
            payment_id = await _settled(fake, tl, 1900)
            found = await tl.signup_plus.by_payment(payment_id)
    assert found.first_name == "John"
