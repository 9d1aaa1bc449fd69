"""Payments v3 response models: every status and type decodes to its class, unknown values
to the fallback, and every sample is a body payments-api-v3.json accepts."""

from __future__ import annotations

import pytest

from tests.support import payment_samples as samples
from tests.support.payments_schema import check_schema, payments_document
from truelayer_async import Secret
from truelayer_async._converter import structure, unstructure
from truelayer_async.errors import MalformedResponseError
from truelayer_async.models import (
    AccountIdentifierNrb,
    AccountIdentifierScan,
    ActionConsent,
    ActionForm,
    ActionProviderSelection,
    ActionRedirect,
    ActionRetry,
    ActionSchemeSelection,
    ActionUserAccountSelection,
    ActionWait,
    AuthorizationFlow,
    AuthorizationFlowAuthorizing,
    AuthorizationFlowFailed,
    AuthorizationFlowResult,
    BeneficiaryExternalAccount,
    BeneficiaryMerchantAccount,
    CreatedPayment,
    CreatedPaymentLink,
    NextAction,
    Payment,
    PaymentAttemptFailed,
    PaymentAuthorizationRequired,
    PaymentAuthorized,
    PaymentAuthorizing,
    PaymentExecuted,
    PaymentFailed,
    PaymentLink,
    PaymentLinkPayment,
    PaymentMethodMandate,
    PaymentSettled,
    PaymentsProvider,
    ProviderReturnMandate,
    ProviderReturnPayment,
    ProviderReturnResult,
    ProviderSelectionPreselected,
    Refund,
    RefundAuthorized,
    RefundExecuted,
    RefundFailed,
    RefundPending,
    UnknownAccountIdentifier,
    UnknownAuthorizationFlowResult,
    UnknownBeneficiary,
    UnknownNextAction,
    UnknownPayment,
    UnknownPaymentMethod,
    UnknownProviderReturnResource,
    UnknownRefund,
)

PAYMENT_CLASSES = {
    "authorization_required": PaymentAuthorizationRequired,
    "authorizing": PaymentAuthorizing,
    "authorized": PaymentAuthorized,
    "executed": PaymentExecuted,
    "settled": PaymentSettled,
    "failed": PaymentFailed,
    "attempt_failed": PaymentAttemptFailed,
}
ACTION_CLASSES = {
    "provider_selection": ActionProviderSelection,
    "scheme_selection": ActionSchemeSelection,
    "redirect": ActionRedirect,
    "wait": ActionWait,
    "form": ActionForm,
    "consent": ActionConsent,
    "user_account_selection": ActionUserAccountSelection,
    "retry": ActionRetry,
}
REFUND_CLASSES = {
    "pending": RefundPending,
    "authorized": RefundAuthorized,
    "executed": RefundExecuted,
    "failed": RefundFailed,
}


@pytest.mark.parametrize("status", sorted(PAYMENT_CLASSES))
def test_every_payment_status_decodes_to_its_class_and_round_trips(status: str) -> None:
    body = samples.PAYMENTS[status]
    check_schema(body, "GetPayment")
    payment = structure(body, Payment)
    assert type(payment) is PAYMENT_CLASSES[status]
    assert payment.status == status
    assert payment.created_at is not None and payment.created_at.tzinfo is not None
    again = structure(unstructure(payment), Payment)
    assert again == payment


def test_payment_sub_unions_pick_their_variants() -> None:
    settled = structure(samples.PAYMENTS["settled"], Payment)
    assert isinstance(settled, PaymentSettled)
    method = settled.payment_method
    assert isinstance(method.provider_selection, ProviderSelectionPreselected)  # type: ignore[union-attr]
    assert isinstance(method.beneficiary, BeneficiaryMerchantAccount)  # type: ignore[union-attr]
    assert settled.payment_source is not None and settled.payment_source.id is not None
    executed = structure(samples.PAYMENTS["executed"], Payment)
    assert isinstance(executed, PaymentExecuted)
    beneficiary = executed.payment_method.beneficiary  # type: ignore[union-attr]
    assert isinstance(beneficiary, BeneficiaryExternalAccount)
    assert isinstance(beneficiary.account_identifier, AccountIdentifierScan)
    assert executed.payment_source is not None
    assert [type(i) for i in executed.payment_source.account_identifiers] == [
        AccountIdentifierScan,
        AccountIdentifierNrb,
    ]
    assert executed.executed_at.utcoffset() is not None
    failed = structure(samples.PAYMENTS["failed"], Payment)
    assert isinstance(failed.payment_method, PaymentMethodMandate)  # type: ignore[union-attr]


def test_unknown_status_types_and_fields_decode_and_keep_the_raw_object() -> None:
    body = {
        **samples.PAYMENTS["executed"],
        "brand_new_field": {"x": 1},
        "payment_method": {
            **samples.BANK_TRANSFER,
            "beneficiary": {"type": "crypto_wallet", "address": "w"},
        },
    }
    payment = structure(body, Payment)
    assert isinstance(payment, PaymentExecuted)
    assert isinstance(payment.payment_method.beneficiary, UnknownBeneficiary)  # type: ignore[union-attr]
    assert payment.payment_method.beneficiary.raw["address"] == "w"  # type: ignore[union-attr]

    future = {**samples.PAYMENTS["executed"], "status": "teleported", "extra": [1]}
    unknown = structure(future, Payment)
    assert isinstance(unknown, UnknownPayment)
    assert (unknown.status, unknown.id, unknown.raw) == ("teleported", "pay-1", future)
    assert unstructure(unknown) == future

    method = structure(
        {**samples.PAYMENTS["authorized"], "payment_method": {"type": "card"}}, Payment
    )
    assert isinstance(method.payment_method, UnknownPaymentMethod)  # type: ignore[union-attr]
    identifier = structure(
        {
            **samples.PAYMENTS["authorized"],
            "payment_source": {"account_identifiers": [{"type": "pan"}]},
        },
        Payment,
    )
    assert isinstance(identifier, PaymentAuthorized) and identifier.payment_source is not None
    assert isinstance(identifier.payment_source.account_identifiers[0], UnknownAccountIdentifier)


def test_a_known_status_with_a_missing_field_is_a_malformed_response() -> None:
    body = dict(samples.PAYMENTS["executed"])
    del body["executed_at"]
    with pytest.raises(MalformedResponseError) as caught:
        structure(body, Payment)
    assert caught.value.path == "$.executed_at"


def test_a_non_string_status_is_malformed_not_unknown() -> None:
    with pytest.raises(MalformedResponseError):
        structure({**samples.PAYMENTS["executed"], "status": 7}, Payment)


def test_created_payment_keeps_the_resource_token_secret() -> None:
    check_schema(samples.CREATED, "CreatedPayment")
    created = structure(samples.CREATED, CreatedPayment)
    token = samples.CREATED["resource_token"]
    assert isinstance(created.resource_token, Secret)
    assert created.resource_token.get_secret_value() == token
    assert token not in repr(created) and "resource-token-value" not in repr(created)
    assert created.user_id == "user-1"
    assert unstructure(created) == samples.CREATED
    with_page = structure(
        {**samples.CREATED, "hosted_page": {"uri": "https://payment.example/payments#x"}},
        CreatedPayment,
    )
    assert with_page.hosted_page is not None
    failed = structure(
        {
            **samples.CREATED,
            "status": "failed",
            "failure_stage": "authorization_required",
            "failure_reason": "invalid_account_details",
        },
        CreatedPayment,
    )
    assert failed.failure_reason == "invalid_account_details"


@pytest.mark.parametrize("action", sorted(ACTION_CLASSES))
def test_every_next_action_type_decodes_to_its_class(action: str) -> None:
    body = {
        "status": "authorizing",
        "authorization_flow": {"actions": {"next": samples.NEXT_ACTIONS[action]}},
    }
    check_schema(body, "PaymentAuthorizationFlowAuthorizing")
    result = structure(body, AuthorizationFlowResult)
    assert isinstance(result, AuthorizationFlowAuthorizing)
    assert result.authorization_flow.actions is not None
    assert type(result.authorization_flow.actions.next) is ACTION_CLASSES[action]
    assert structure(unstructure(result), AuthorizationFlowResult) == result


def test_the_documents_authorization_flow_examples_decode() -> None:
    document = payments_document().doc
    found = 0
    for path, ops in document["paths"].items():
        if "/v3/payments/" not in path:
            continue
        for op in ops.values():
            for response in op.get("responses", {}).values():
                for content in response.get("content", {}).values():
                    example = content.get("example") or content.get("schema", {}).get("example")
                    if example is None:
                        continue
                    found += 1
                    result = structure(example, AuthorizationFlowResult)
                    assert isinstance(result, AuthorizationFlowAuthorizing)
                    assert not isinstance(
                        result.authorization_flow.actions.next, UnknownNextAction
                    )  # type: ignore[union-attr]
    assert found == 3


def test_flow_failed_and_unknown_flow_results() -> None:
    failed = {
        "status": "failed",
        "failure_stage": "authorizing",
        "failure_reason": "provider_error",
    }
    check_schema(failed, "PaymentAuthorizationFlowAuthorizationFailed")
    assert isinstance(structure(failed, AuthorizationFlowResult), AuthorizationFlowFailed)
    odd = structure({"status": "paused"}, AuthorizationFlowResult)
    assert isinstance(odd, UnknownAuthorizationFlowResult) and odd.status == "paused"
    action = structure(
        {"actions": {"next": {"type": "hologram", "x": 1}}},
        AuthorizationFlow,
    )
    assert isinstance(action.actions.next, UnknownNextAction)
    assert action.actions.next.raw == {"type": "hologram", "x": 1}
    assert isinstance(structure({"type": "hologram"}, NextAction), UnknownNextAction)


@pytest.mark.parametrize("status", sorted(REFUND_CLASSES))
def test_every_refund_status_decodes_and_round_trips(status: str) -> None:
    body = samples.REFUNDS[status]
    check_schema({"items": [body]}, "GetPaymentRefunds")
    refund = structure(body, Refund)
    assert type(refund) is REFUND_CLASSES[status]
    assert structure(unstructure(refund), Refund) == refund
    unknown = structure({**body, "status": "reversed"}, Refund)
    assert isinstance(unknown, UnknownRefund) and unknown.id == "ref-1"


def test_provider_link_and_return_models() -> None:
    check_schema({"items": [samples.PROVIDER]}, "SearchPaymentsProviders")
    provider = structure(samples.PROVIDER, PaymentsProvider)
    assert provider.supports_bank_transfer and provider.country_code == "GB"
    assert unstructure(provider) == samples.PROVIDER

    payment_return = {"resource": {"type": "payment", "payment_id": "pay-1"}}
    mandate_return = {"resource": {"type": "mandate", "mandate_id": "m-1"}}
    for body in (payment_return, mandate_return):
        check_schema(body, "ProviderReturnParametersResponse")
    assert isinstance(
        structure(payment_return, ProviderReturnResult).resource, ProviderReturnPayment
    )
    assert isinstance(
        structure(mandate_return, ProviderReturnResult).resource, ProviderReturnMandate
    )
    other = structure({"resource": {"type": "payout", "payout_id": "x"}}, ProviderReturnResult)
    assert isinstance(other.resource, UnknownProviderReturnResource)

    link = {
        "id": "link-1",
        "type": "single_payment",
        "status": "disabled",
        "disabled_reason": "expired",
    }
    check_schema(link, "GetPaymentLink")
    assert structure(link, PaymentLink).disabled_reason == "expired"
    created = {"id": "link-1", "uri": "https://payment.example/links/link-1"}
    check_schema(created, "CreatedPaymentLink")
    assert structure(created, CreatedPaymentLink).uri.endswith("link-1")
    page = {
        "items": [{"id": "pay-1", "status": "succeeded", "created_at": "2024-05-01T10:00:00Z"}],
        "pagination": {"next_cursor": "abc"},
    }
    check_schema(page, "GetPaymentLinkPayments")
    item = structure(page["items"][0], PaymentLinkPayment)
    assert item.status == "succeeded" and item.created_at.tzinfo is not None
