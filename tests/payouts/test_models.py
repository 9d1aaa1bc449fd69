"""Payouts, merchant-account and mandate response models: every status and type decodes to
its class, unknown values to the fallback, and every sample is a body payments-api-v3.json
accepts."""

from __future__ import annotations

import copy
from datetime import date, datetime, timezone
from typing import Any

import pytest

from tests.openapi import openapi_document
from tests.support import payout_samples as samples
from tests.support.openapi import PAYMENTS
from tests.support.payouts_openapi import MANDATE_SCHEMAS, validate
from truelayer_async import Secret
from truelayer_async._converter import structure
from truelayer_async.errors import MalformedResponseError
from truelayer_async.models import (
    AccountIdentifierIban,
    ActionConsent,
    ActionProviderSelection,
    ActionRedirect,
    ActionWait,
    AuthorizationFlowAuthorizing,
    AuthorizationFlowFailed,
    AuthorizationFlowResult,
    CreatedMandate,
    CreatedPayout,
    FundsConfirmation,
    Mandate,
    MandateAuthorizationRequired,
    MandateAuthorized,
    MandateAuthorizing,
    MandateBeneficiaryExternalAccount,
    MandateBeneficiaryMerchantAccount,
    MandateConstraintsUsage,
    MandateFailed,
    MandateRevoked,
    MerchantAccount,
    MerchantAccountTransaction,
    Payout,
    PayoutAuthorizationFlow,
    PayoutAuthorizationFlowAuthorizing,
    PayoutAuthorizationFlowCompleted,
    PayoutAuthorizationFlowCreated,
    PayoutAuthorizationRequired,
    PayoutAuthorized,
    PayoutAuthorizing,
    PayoutBeneficiaryBusinessAccount,
    PayoutBeneficiaryExternalAccount,
    PayoutBeneficiaryPaymentSource,
    PayoutBeneficiaryUserDetermined,
    PayoutExecuted,
    PayoutFailed,
    PayoutPending,
    ProviderSelectionPreselected,
    SweepingSettings,
    TransactionExternalPayment,
    TransactionMerchantAccountPayment,
    TransactionPayout,
    TransactionRefund,
    UnknownMandate,
    UnknownMandateBeneficiary,
    UnknownMerchantAccountTransaction,
    UnknownPayout,
    UnknownPayoutAuthorizationFlow,
    UnknownPayoutBeneficiary,
)

PAYOUT_CLASSES = {
    "authorization_required": PayoutAuthorizationRequired,
    "authorizing": PayoutAuthorizing,
    "pending": PayoutPending,
    "authorized": PayoutAuthorized,
    "executed": PayoutExecuted,
    "failed": PayoutFailed,
}
BENEFICIARY_CLASSES = {
    "external_account": PayoutBeneficiaryExternalAccount,
    "payment_source": PayoutBeneficiaryPaymentSource,
    "business_account": PayoutBeneficiaryBusinessAccount,
    "user_determined": PayoutBeneficiaryUserDetermined,
}
TRANSACTION_CLASSES = {
    "merchant_account_payment": TransactionMerchantAccountPayment,
    "external_payment": TransactionExternalPayment,
    "payout": TransactionPayout,
    "refund": TransactionRefund,
}
MANDATE_CLASSES = {
    "authorization_required": MandateAuthorizationRequired,
    "authorizing": MandateAuthorizing,
    "authorized": MandateAuthorized,
    "failed": MandateFailed,
    "revoked": MandateRevoked,
}


def decode(body: Any, model: Any) -> Any:
    return structure(body, model)


# -- payouts ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(PAYOUT_CLASSES))
def test_every_payout_status_decodes_to_its_class(status: str) -> None:
    body = samples.PAYOUTS[status]
    validate(body, "Payout")
    payout = decode(body, Payout)
    assert type(payout) is PAYOUT_CLASSES[status]
    assert payout.status == status
    assert payout.amount_in_minor == 1500
    assert payout.created_at.tzinfo is not None


@pytest.mark.parametrize("kind", sorted(BENEFICIARY_CLASSES))
def test_every_payout_beneficiary_type_decodes_to_its_class(kind: str) -> None:
    body = {**samples.PAYOUTS["pending"], "beneficiary": samples.PAYOUT_BENEFICIARIES[kind]}
    validate(body, "Payout")
    assert type(decode(body, Payout).beneficiary) is BENEFICIARY_CLASSES[kind]


def test_a_failed_payout_carries_its_reason_and_an_aware_failure_time() -> None:
    failed = decode(samples.PAYOUTS["failed"], Payout)
    assert isinstance(failed, PayoutFailed)
    assert failed.failure_reason == "insufficient_funds"
    assert failed.failed_at == datetime(2024, 5, 1, 9, 0, 5, tzinfo=timezone.utc)
    assert failed.executed_at is None


def test_unknown_payout_status_and_beneficiary_type_decode_to_the_fallbacks() -> None:
    body = {**samples.PAYOUTS["pending"], "status": "queued", "new_field": 1}
    unknown = decode(body, Payout)
    assert isinstance(unknown, UnknownPayout)
    assert (unknown.status, unknown.id, unknown.raw["new_field"]) == ("queued", body["id"], 1)
    body = {**samples.PAYOUTS["pending"], "beneficiary": {"type": "wallet", "reference": "x"}}
    beneficiary = decode(body, Payout).beneficiary
    assert isinstance(beneficiary, UnknownPayoutBeneficiary)
    assert beneficiary.raw["reference"] == "x"


def test_unknown_fields_are_ignored_and_a_missing_required_field_is_malformed() -> None:
    body = {**samples.PAYOUTS["executed"], "brand_new": {"a": 1}}
    assert isinstance(decode(body, Payout), PayoutExecuted)
    broken = copy.deepcopy(samples.PAYOUTS["executed"])
    del broken["executed_at"]
    with pytest.raises(MalformedResponseError) as caught:
        decode(broken, Payout)
    assert "executed_at" in str(caught.value)


def test_created_payouts_decode_with_the_resource_token_as_a_secret() -> None:
    validate(samples.CREATED_PAYOUT, "PayoutCreatedRegular")
    validate(samples.CREATED_VERIFIED_PAYOUT, "PayoutCreatedUserDetermined")
    plain = decode(samples.CREATED_PAYOUT, CreatedPayout)
    assert (plain.id, plain.status, plain.resource_token) == (samples.PAYOUT_ID, None, None)
    verified = decode(samples.CREATED_VERIFIED_PAYOUT, CreatedPayout)
    assert isinstance(verified.resource_token, Secret)
    assert verified.resource_token.get_secret_value() == "payout-resource-token-SECRET"
    assert "SECRET" not in repr(verified)
    assert verified.user is not None and verified.user.id == "user-2"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        ("created", PayoutAuthorizationFlowCreated),
        ("authorizing", PayoutAuthorizationFlowAuthorizing),
        ("completed", PayoutAuthorizationFlowCompleted),
    ],
)
def test_payout_authorization_flow_statuses(status: str, cls: type) -> None:
    body = samples.PAYOUT_FLOWS[status]
    validate(body, "GetPayoutAuthorizationFlowResponse")
    flow = decode(body, PayoutAuthorizationFlow)
    assert type(flow) is cls
    if isinstance(flow, PayoutAuthorizationFlowAuthorizing):
        assert isinstance(flow.actions.next, ActionRedirect)
        assert flow.actions.next.uri == "https://app.example/payouts/1"
    if isinstance(flow, PayoutAuthorizationFlowCompleted):
        assert flow.failure_reason == "account_not_valid"
    unknown = decode({"status": "paused"}, PayoutAuthorizationFlow)
    assert isinstance(unknown, UnknownPayoutAuthorizationFlow)


# -- merchant accounts ------------------------------------------------------------------


def test_merchant_account_decodes_with_balances_and_identifiers() -> None:
    validate(samples.MERCHANT_ACCOUNT, "MerchantAccount")
    account = decode(samples.MERCHANT_ACCOUNT, MerchantAccount)
    assert account.available_balance_in_minor == 100000
    assert isinstance(account.account_identifiers[1], AccountIdentifierIban)


@pytest.mark.parametrize("kind", sorted(TRANSACTION_CLASSES))
def test_every_transaction_type_decodes_to_its_class(kind: str) -> None:
    body = samples.TRANSACTIONS[kind]
    validate(body, "Transaction")
    transaction = decode(body, MerchantAccountTransaction)
    assert type(transaction) is TRANSACTION_CLASSES[kind]
    assert transaction.amount_in_minor == body["amount_in_minor"]


def test_an_unknown_transaction_type_decodes_to_the_fallback() -> None:
    body = {"type": "fee", "id": "tx-9", "amount_in_minor": 1, "currency": "GBP"}
    transaction = decode(body, MerchantAccountTransaction)
    assert isinstance(transaction, UnknownMerchantAccountTransaction)
    assert (transaction.type, transaction.id, transaction.raw) == ("fee", "tx-9", body)


def test_sweeping_settings_decode() -> None:
    validate(samples.SWEEPING, "SweepingSettingsConfigured")
    settings = decode(samples.SWEEPING, SweepingSettings)
    assert (settings.max_amount_in_minor, settings.frequency) == (5000, "daily")
    assert isinstance(settings.destination, AccountIdentifierIban)


# -- mandates ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(MANDATE_CLASSES))
def test_every_mandate_status_decodes_to_its_class(status: str) -> None:
    body = samples.MANDATES[status]
    validate(body, "GetMandate", closed_as=MANDATE_SCHEMAS[status])
    mandate = decode(body, Mandate)
    assert type(mandate) is MANDATE_CLASSES[status]
    assert mandate.type == body["type"]
    assert mandate.constraints is not None
    assert mandate.constraints.periodic_limits.month is not None
    assert mandate.constraints.periodic_limits.month.maximum_amount == 20000
    assert mandate.constraints.periodic_limits.day is None


def test_mandate_details_by_status_and_beneficiary_type() -> None:
    authorized = decode(samples.MANDATES["authorized"], Mandate)
    assert isinstance(authorized, MandateAuthorized)
    assert authorized.type == "commercial"
    assert isinstance(authorized.beneficiary, MandateBeneficiaryExternalAccount)
    assert isinstance(authorized.provider_selection, ProviderSelectionPreselected)
    assert authorized.remitter is not None and authorized.remitter.account_holder_name == "Ada"
    authorizing = decode(samples.MANDATES["authorizing"], Mandate)
    assert isinstance(authorizing, MandateAuthorizing)
    assert isinstance(authorizing.beneficiary, MandateBeneficiaryMerchantAccount)
    assert authorizing.authorization_flow is not None
    assert authorizing.authorization_flow.actions is not None
    assert isinstance(authorizing.authorization_flow.actions.next, ActionRedirect)
    revoked = decode(samples.MANDATES["revoked"], Mandate)
    assert isinstance(revoked, MandateRevoked) and revoked.revocation_source == "client"
    failed = decode(samples.MANDATES["failed"], Mandate)
    assert isinstance(failed, MandateFailed) and failed.failure_reason == "provider_rejected"


def test_unknown_mandate_status_type_and_beneficiary_decode() -> None:
    body = {**samples.MANDATES["authorized"], "status": "suspended"}
    unknown = decode(body, Mandate)
    assert isinstance(unknown, UnknownMandate)
    assert (unknown.status, unknown.type, unknown.raw["currency"]) == (
        "suspended",
        "commercial",
        "GBP",
    )
    body = {**samples.MANDATES["authorization_required"], "type": "pay_by_bank_vrp"}
    assert decode(body, Mandate).type == "pay_by_bank_vrp"
    body = {**samples.MANDATES["authorization_required"], "beneficiary": {"type": "wallet"}}
    assert isinstance(decode(body, Mandate).beneficiary, UnknownMandateBeneficiary)


def test_created_mandates_decode_with_the_resource_token_as_a_secret() -> None:
    validate(samples.CREATED_MANDATE, "MandateCreated")
    validate(samples.CREATED_MANDATE_AUTHORIZING, "MandateCreated")
    created = decode(samples.CREATED_MANDATE, CreatedMandate)
    assert isinstance(created.resource_token, Secret)
    assert created.resource_token.get_secret_value() == "mandate-resource-token-SECRET"
    assert "SECRET" not in repr(created)
    assert created.user_id == "user-1"
    authorizing = decode(samples.CREATED_MANDATE_AUTHORIZING, CreatedMandate)
    assert (authorizing.status, authorizing.resource_token) == ("authorizing", None)


@pytest.mark.parametrize(
    ("kind", "action"),
    [
        ("provider_selection", ActionProviderSelection),
        ("wait", ActionWait),
        ("consent", ActionConsent),
    ],
)
def test_mandate_authorization_flow_next_actions(kind: str, action: type) -> None:
    body = samples.MANDATE_FLOWS[kind]
    validate(body, "StartMandateAuthorizationFlowResponse")
    result = decode(body, AuthorizationFlowResult)
    assert isinstance(result, AuthorizationFlowAuthorizing)
    assert result.authorization_flow.actions is not None
    assert type(result.authorization_flow.actions.next) is action


def test_mandate_authorization_flow_failure_decodes() -> None:
    body = samples.MANDATE_FLOWS["failed"]
    validate(body, "StartMandateAuthorizationFlowResponse")
    result = decode(body, AuthorizationFlowResult)
    assert isinstance(result, AuthorizationFlowFailed)
    assert (result.failure_stage, result.failure_reason) == ("authorizing", "provider_rejected")


def test_the_documents_provider_selection_example_decodes() -> None:
    # The one full response example payments-api-v3.json gives for rows 17-36.
    path = openapi_document(PAYMENTS)["paths"][
        "/v3/mandates/{id}/authorization-flow/actions/provider-selection"
    ]
    example = path["post"]["responses"]["200"]["content"]["application/json; charset=UTF-8"][
        "example"
    ]
    result = decode(example, AuthorizationFlowResult)
    assert isinstance(result, AuthorizationFlowAuthorizing)
    assert result.authorization_flow.actions is not None
    next_action = result.authorization_flow.actions.next
    assert isinstance(next_action, ActionRedirect)
    assert next_action.uri.startswith("https://api.sandbox.natwest.com/authorize")


def test_funds_and_constraints_usage_decode() -> None:
    validate(samples.FUNDS, "ConfirmationOfFunds")
    funds = decode(samples.FUNDS, FundsConfirmation)
    assert funds.confirmed is True and funds.confirmed_at is not None
    validate(samples.CONSTRAINTS_USAGE, "GetConstraints")
    usage = decode(samples.CONSTRAINTS_USAGE, MandateConstraintsUsage)
    month = usage.periodic_limits.month
    assert month is not None
    assert (month.current_amount, month.maximum_available_amount) == (5000, 15000)
    assert (month.start_date, month.end_date) == (date(2024, 5, 1), date(2024, 5, 31))
