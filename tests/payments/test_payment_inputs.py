"""Payments v3 request inputs: every rule accepts what TrueLayer accepts and refuses the
rest with InvalidParameterError naming the field (never the value), and the wire objects
are bodies payments-api-v3.json accepts."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from tests.support.openapi import PAYMENTS, Spec
from truelayer_async.errors import InvalidParameterError
from truelayer_async.models import (
    Address,
    AuthorizationFlowOptions,
    BankTransfer,
    Bban,
    ConsentOptions,
    ExternalAccountBeneficiary,
    FormOptions,
    HostedPageOptions,
    Iban,
    InstantOnly,
    InstantPreferred,
    MandatePaymentMethod,
    MerchantAccountBeneficiary,
    Nrb,
    PaymentUser,
    PreselectedProvider,
    PreselectedScheme,
    ProviderExcludes,
    ProviderFilter,
    ProviderIcon,
    ProviderSelectionOptions,
    RedirectOptions,
    RemitterInput,
    SchemeSelectionOptions,
    SmartRetry,
    SortCodeAccountNumber,
    StandardRetry,
    UserAccountSelectionOptions,
    UserSelectedProvider,
    UserSelectedScheme,
    to_wire,
)
from truelayer_async.models._checks import check_amount, check_currency, check_metadata

SCAN = SortCodeAccountNumber(sort_code="040668", account_number="00000871")
EXTERNAL = ExternalAccountBeneficiary(
    account_holder_name="Ada Lovelace", account_identifier=SCAN, reference="Invoice 42"
)
MERCHANT = MerchantAccountBeneficiary(
    merchant_account_id="8b6a7c2e-3f1d-4e5a-9b0c-1d2e3f4a5b6c",
    reference="Order 42: thanks?",
    statement_reference="ORDER 42",
)
USER = PaymentUser(
    name="Ada Lovelace",
    email="ada@example.com",
    phone="+447700900000",
    date_of_birth=date(1990, 12, 10),
    address=Address(address_line1="1 Road", city="London", zip="N1 1AA", country_code="GB"),
)


@functools.cache
def _spec() -> Spec:
    return Spec(PAYMENTS)


def _valid(body: Any, schema: str) -> None:
    _spec().validate(body, "#/components/schemas/" + schema)


METHODS = {
    "user_selected_to_external": BankTransfer(
        provider_selection=UserSelectedProvider(
            filter=ProviderFilter(
                countries=["GB"],
                release_channel="general_availability",
                customer_segments=["retail"],
                excludes=ProviderExcludes(provider_ids=["ob-exclude"]),
            ),
            scheme_selection=InstantPreferred(allow_remitter_fee=True),
            remitter=RemitterInput(account_holder_name="Ada"),
        ),
        beneficiary=EXTERNAL,
    ),
    "preselected_to_merchant": BankTransfer(
        provider_selection=PreselectedProvider(
            provider_id="ob-natwest",
            scheme_selection=PreselectedScheme(scheme_id="faster_payments_service"),
            remitter=RemitterInput(
                account_holder_name="Ada", account_identifier=Iban(iban="GB33BUKB20201555555555")
            ),
            data_access_token="eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
        ),
        beneficiary=MERCHANT,
    ),
    "instant_only_nrb": BankTransfer(
        provider_selection=UserSelectedProvider(
            scheme_selection=InstantOnly(instant_override_provider_ids=["a"])
        ),
        beneficiary=ExternalAccountBeneficiary(
            account_holder_name="Jan",
            account_identifier=Nrb(nrb="61109010140000071219812874"),
            reference="Faktura 1",
        ),
        retry={},
    ),
    "user_selected_scheme_bban": BankTransfer(
        provider_selection=UserSelectedProvider(scheme_selection=UserSelectedScheme()),
        beneficiary=ExternalAccountBeneficiary(
            account_holder_name="Jo", account_identifier=Bban(bban="12345678"), reference="R"
        ),
    ),
    "mandate_standard": MandatePaymentMethod(
        mandate_id="m-1", reference="Sweep", retry=StandardRetry(for_="6h")
    ),
    "mandate_smart": MandatePaymentMethod(
        mandate_id="m-1", retry=SmartRetry(for_="90d", ensure_minimum_balance_in_minor=100)
    ),
}

FLOW = AuthorizationFlowOptions(
    provider_selection=ProviderSelectionOptions(icon=ProviderIcon(type="extended")),
    scheme_selection=SchemeSelectionOptions(),
    redirect=RedirectOptions(return_uri="https://shop.example/back"),
    form=FormOptions(input_types=["text", "select"]),
    consent=ConsentOptions(action_type="explicit", requirements={"pis": {}}),
    user_account_selection=UserAccountSelectionOptions(),
)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_payment_method_wire_objects_are_create_payment_bodies(name: str) -> None:
    body = {
        "amount_in_minor": 100,
        "currency": "GBP",
        "payment_method": to_wire(METHODS[name]),
        "user": to_wire(USER),
        "metadata": {"k": "v"},
    }
    _valid(body, "CreatePayment")


def test_wire_objects_carry_the_wire_names_and_leave_out_none() -> None:
    wire = to_wire(METHODS["mandate_standard"])
    assert wire == {
        "type": "mandate",
        "mandate_id": "m-1",
        "reference": "Sweep",
        "retry": {"type": "standard", "for": "6h"},
    }
    assert to_wire(USER)["date_of_birth"] == "1990-12-10"
    selection = to_wire(METHODS["preselected_to_merchant"])["provider_selection"]
    assert selection["data_access_token"] == "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl"


def test_secret_inputs_stay_out_of_reprs() -> None:
    method = METHODS["preselected_to_merchant"]
    assert "c2lnbmF0dXJl" not in repr(method)


def test_flow_and_hosted_page_options_are_valid_bodies() -> None:
    _valid(to_wire(FLOW), "StartPaymentAuthorizationFlow")
    assert to_wire(FLOW)["scheme_selection"] == {}
    page = HostedPageOptions(
        return_uri="https://shop.example/done",
        country_code="GB",
        language_code="en",
        max_wait_for_result=60,
    )
    _valid(to_wire(page), "HostedPageParameters")


SECRETISH = "Zz9-not-in-messages"

REFUSED: dict[str, tuple[Callable[[], object], str]] = {
    "sort code 5 digits": (
        lambda: SortCodeAccountNumber(sort_code="12345", account_number="12345678"),
        "SortCodeAccountNumber.sort_code",
    ),
    "sort code letters": (
        lambda: SortCodeAccountNumber(sort_code="12a456", account_number="12345678"),
        "SortCodeAccountNumber.sort_code",
    ),
    "account number 9 digits": (
        lambda: SortCodeAccountNumber(sort_code="123456", account_number="123456789"),
        "SortCodeAccountNumber.account_number",
    ),
    "iban 14 chars": (lambda: Iban(iban="GB33BUKB202015"), "Iban.iban"),
    "iban 35 chars": (lambda: Iban(iban="GB33" + "A" * 31), "Iban.iban"),
    "iban lower case": (lambda: Iban(iban="gb33bukb20201555555555"), "Iban.iban"),
    "nrb short": (lambda: Nrb(nrb="123"), "Nrb.nrb"),
    "bban empty": (lambda: Bban(bban=""), "Bban.bban"),
    "external holder 41": (
        lambda: ExternalAccountBeneficiary(
            account_holder_name="A" * 41, account_identifier=SCAN, reference="r"
        ),
        "ExternalAccountBeneficiary.account_holder_name",
    ),
    "external holder parentheses": (
        lambda: ExternalAccountBeneficiary(
            account_holder_name="Ada (Ltd)", account_identifier=SCAN, reference="r"
        ),
        "ExternalAccountBeneficiary.account_holder_name",
    ),
    "external reference 19": (
        lambda: ExternalAccountBeneficiary(
            account_holder_name="Ada", account_identifier=SCAN, reference="R" * 19
        ),
        "ExternalAccountBeneficiary.reference",
    ),
    "external reference charset": (
        lambda: ExternalAccountBeneficiary(
            account_holder_name="Ada", account_identifier=SCAN, reference=SECRETISH + "_#"
        ),
        "ExternalAccountBeneficiary.reference",
    ),
    "external identifier type": (
        lambda: ExternalAccountBeneficiary(
            account_holder_name="Ada",
            account_identifier={"type": "iban"},  # type: ignore[arg-type]
            reference="r",
        ),
        "ExternalAccountBeneficiary.account_identifier",
    ),
    "merchant statement reference 19": (
        lambda: MerchantAccountBeneficiary(merchant_account_id="m", statement_reference="S" * 19),
        "MerchantAccountBeneficiary.statement_reference",
    ),
    "merchant reference charset": (
        lambda: MerchantAccountBeneficiary(merchant_account_id="m", reference="a&b"),
        "MerchantAccountBeneficiary.reference",
    ),
    "mandate reference 19": (
        lambda: MandatePaymentMethod(mandate_id="m", reference="R" * 19),
        "MandatePaymentMethod.reference",
    ),
    "retry duration": (lambda: StandardRetry(for_="forever"), "StandardRetry.for_"),
    "user name parentheses": (lambda: PaymentUser(name="A (B)"), "PaymentUser.name"),
    "user date of birth text": (
        lambda: PaymentUser(date_of_birth="1990-01-01"),  # type: ignore[arg-type]
        "PaymentUser.date_of_birth",
    ),
    "political exposure": (
        lambda: PaymentUser(political_exposure="maybe"),
        "PaymentUser.political_exposure",
    ),
    "address country": (
        lambda: Address(address_line1="1", city="c", zip="z", country_code="gbr"),
        "Address.country_code",
    ),
    "address line 51": (
        lambda: Address(address_line1="x" * 51, city="c", zip="z", country_code="GB"),
        "Address.address_line1",
    ),
    "hosted page wait 61": (
        lambda: HostedPageOptions(return_uri="https://x", max_wait_for_result=61),
        "HostedPageOptions.max_wait_for_result",
    ),
    "hosted page wait bool": (
        lambda: HostedPageOptions(return_uri="https://x", max_wait_for_result=True),
        "HostedPageOptions.max_wait_for_result",
    ),
    "hosted page language": (
        lambda: HostedPageOptions(return_uri="https://x", language_code="EN"),
        "HostedPageOptions.language_code",
    ),
    "form no input types": (lambda: FormOptions(input_types=[]), "FormOptions.input_types"),
    "consent action": (
        lambda: ConsentOptions(action_type="implicit"),
        "ConsentOptions.action_type",
    ),
    "icon type": (lambda: ProviderIcon(type="huge"), "ProviderIcon.type"),
    "release channel": (
        lambda: ProviderFilter(release_channel="nightly"),
        "ProviderFilter.release_channel",
    ),
    "preselected without scheme": (
        lambda: PreselectedProvider(
            provider_id="p",
            scheme_selection=None,  # type: ignore[arg-type]
        ),
        "PreselectedProvider.scheme_selection",
    ),
    "bank transfer beneficiary": (
        lambda: BankTransfer(
            provider_selection=UserSelectedProvider(),
            beneficiary=SCAN,  # type: ignore[arg-type]
        ),
        "BankTransfer.beneficiary",
    ),
    "tag overridden": (lambda: Iban(type="bban", iban="GB33BUKB20201555555555"), "Iban.type"),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_every_rule_refuses_with_the_field_named_and_the_value_left_out(case: str) -> None:
    build, field = REFUSED[case]
    with pytest.raises(InvalidParameterError) as caught:
        build()
    message = str(caught.value)
    assert message.startswith(field + ":")
    assert SECRETISH not in message


def test_the_limits_themselves_are_accepted() -> None:
    ExternalAccountBeneficiary(
        account_holder_name="A" * 40,
        account_identifier=Iban(iban="GB33" + "A" * 30),
        reference="a-Z0:().,'+ ?/9xyz",
    )
    Iban(iban="GB33" + "1" * 11)
    MerchantAccountBeneficiary(merchant_account_id="m", statement_reference="S" * 18)
    HostedPageOptions(return_uri="https://x", max_wait_for_result=0)


def test_amount_currency_and_metadata_checks() -> None:
    check_amount("amount_in_minor", 1)
    for bad in (0, -5, 1.5, True, "100"):
        with pytest.raises(InvalidParameterError, match="amount_in_minor"):
            check_amount("amount_in_minor", bad)
    check_currency("currency", "EUR")
    for bad_currency in ("PLN", "gbp", None):
        with pytest.raises(InvalidParameterError, match="currency"):
            check_currency("currency", bad_currency)
    check_metadata("metadata", {f"k{i}": "v" * 500 for i in range(10)})
    check_metadata("metadata", {"k" * 40: "v"})
    refused: list[Any] = [
        {f"k{i}": "v" for i in range(11)},
        {"k" * 41: "v"},
        {"k": "v" * 501},
        {"k": 1},
        {"": "v"},
        ["k", "v"],
    ]
    for bad_metadata in refused:
        with pytest.raises(InvalidParameterError, match="metadata") as caught:
            check_metadata("metadata", bad_metadata)
        assert "v" * 501 not in str(caught.value)
