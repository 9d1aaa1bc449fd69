"""Payments v3: a payment (one class per ``status``), its payment method, beneficiary and
provider selection (each a tagged union on ``type``), and the create-payment response.

Money is ``amount_in_minor: int`` with ``currency``; timestamps are aware ``datetime``;
open enums (``failure_reason``, ``failure_stage``…) are plain strings; unknown fields are
ignored; an unknown ``status`` or ``type`` decodes to the ``Unknown…`` variant with the
whole object in ``raw``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeAlias

import attrs

from .._secret import Secret
from ._tagged import tagged_union
from .payment_common import AccountIdentifier, AuthorizationFlow, PaymentSource, PaymentUserRef

__all__ = [
    "TERMINAL_PAYMENT_STATUSES",
    "Beneficiary",
    "BeneficiaryExternalAccount",
    "BeneficiaryMerchantAccount",
    "CreatedPayment",
    "HostedPageLink",
    "Payment",
    "PaymentAttemptFailed",
    "PaymentAuthorizationRequired",
    "PaymentAuthorized",
    "PaymentAuthorizing",
    "PaymentExecuted",
    "PaymentFailed",
    "PaymentMethod",
    "PaymentMethodBankTransfer",
    "PaymentMethodMandate",
    "PaymentSettled",
    "ProviderSelection",
    "ProviderSelectionPreselected",
    "ProviderSelectionUserSelected",
    "Remitter",
    "UnknownBeneficiary",
    "UnknownPayment",
    "UnknownPaymentMethod",
    "UnknownProviderSelection",
    "is_final",
]

#: Statuses after which a payment never changes again (``executed`` is final only for
#: payments to an external account; ``settled`` follows it for merchant accounts).
TERMINAL_PAYMENT_STATUSES = frozenset({"executed", "settled", "failed"})


# -- provider selection -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Remitter:
    """The paying account, as given at creation or as reported by the bank."""

    account_holder_name: str | None = None
    account_identifier: AccountIdentifier | None = None


@attrs.frozen(kw_only=True)
class ProviderSelectionUserSelected:
    """The user picks their bank; ``provider_id``/``scheme_id`` appear once chosen."""

    type: Literal["user_selected"] = "user_selected"
    filter: dict[str, Any] | None = None
    scheme_selection: dict[str, Any] | None = None
    provider_id: str | None = None
    scheme_id: str | None = None
    remitter: Remitter | None = None


@attrs.frozen(kw_only=True)
class ProviderSelectionPreselected:
    """The bank was chosen by the merchant at creation."""

    type: Literal["preselected"] = "preselected"
    provider_id: str
    scheme_id: str | None = None
    scheme_selection: dict[str, Any] | None = None
    remitter: Remitter | None = None


@attrs.frozen(kw_only=True)
class UnknownProviderSelection:
    """A provider selection ``type`` this SDK version does not know (``raw`` has it)."""

    type: str
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: How the bank is chosen, told apart by ``type``.
ProviderSelection: TypeAlias = (
    ProviderSelectionUserSelected | ProviderSelectionPreselected | UnknownProviderSelection
)
tagged_union(
    ProviderSelection,
    "type",
    {"user_selected": ProviderSelectionUserSelected, "preselected": ProviderSelectionPreselected},
    UnknownProviderSelection,
)


# -- beneficiary ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BeneficiaryMerchantAccount:
    """Paid into one of your TrueLayer merchant accounts (closed loop)."""

    type: Literal["merchant_account"] = "merchant_account"
    merchant_account_id: str | None = None
    account_holder_name: str | None = None
    reference: str | None = None
    statement_reference: str | None = None
    verification: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class BeneficiaryExternalAccount:
    """Paid into any account (open loop)."""

    type: Literal["external_account"] = "external_account"
    account_holder_name: str
    reference: str
    account_identifier: AccountIdentifier | None = None


@attrs.frozen(kw_only=True)
class UnknownBeneficiary:
    """A beneficiary ``type`` this SDK version does not know (``raw`` has it)."""

    type: str
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: Where the money goes, told apart by ``type``.
Beneficiary: TypeAlias = (
    BeneficiaryMerchantAccount | BeneficiaryExternalAccount | UnknownBeneficiary
)
tagged_union(
    Beneficiary,
    "type",
    {
        "merchant_account": BeneficiaryMerchantAccount,
        "external_account": BeneficiaryExternalAccount,
    },
    UnknownBeneficiary,
)


# -- payment method ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PaymentMethodBankTransfer:
    """An open-banking bank transfer."""

    type: Literal["bank_transfer"] = "bank_transfer"
    provider_selection: ProviderSelection
    beneficiary: Beneficiary
    retry: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class PaymentMethodMandate:
    """A payment on a mandate (no user journey)."""

    type: Literal["mandate"] = "mandate"
    mandate_id: str
    reference: str | None = None
    retry: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class UnknownPaymentMethod:
    """A payment method ``type`` this SDK version does not know (``raw`` has it)."""

    type: str
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: How the payment is made, told apart by ``type``.
PaymentMethod: TypeAlias = PaymentMethodBankTransfer | PaymentMethodMandate | UnknownPaymentMethod
tagged_union(
    PaymentMethod,
    "type",
    {"bank_transfer": PaymentMethodBankTransfer, "mandate": PaymentMethodMandate},
    UnknownPaymentMethod,
)


# -- the payment, by status -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _PaymentCommon:
    id: str
    amount_in_minor: int
    currency: str
    payment_method: PaymentMethod
    user: PaymentUserRef | None = None
    created_at: datetime | None = None
    metadata: dict[str, str] | None = None
    related_products: dict[str, Any] | None = None
    sub_merchants: dict[str, Any] | None = None
    user_consent: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class PaymentAuthorizationRequired(_PaymentCommon):
    """Created; nobody has started the authorization flow yet."""

    status: Literal["authorization_required"] = "authorization_required"


@attrs.frozen(kw_only=True)
class PaymentAuthorizing(_PaymentCommon):
    """The user is in the authorization journey; ``authorization_flow.actions.next``
    says what comes next."""

    status: Literal["authorizing"] = "authorizing"
    authorization_flow: AuthorizationFlow | None = None


@attrs.frozen(kw_only=True)
class PaymentAuthorized(_PaymentCommon):
    """Authorised by the user; submitted to the bank."""

    status: Literal["authorized"] = "authorized"
    authorization_flow: AuthorizationFlow | None = None
    payment_source: PaymentSource | None = None
    creditable_at: datetime | None = None


@attrs.frozen(kw_only=True)
class PaymentExecuted(_PaymentCommon):
    """The bank accepted the payment (final for external-account payments)."""

    status: Literal["executed"] = "executed"
    executed_at: datetime
    authorization_flow: AuthorizationFlow | None = None
    payment_source: PaymentSource | None = None
    creditable_at: datetime | None = None
    settlement_stalled_at: datetime | None = None
    disputed_at: datetime | None = None
    disputed_reason: str | None = None


@attrs.frozen(kw_only=True)
class PaymentSettled(_PaymentCommon):
    """The money reached your merchant account (final)."""

    status: Literal["settled"] = "settled"
    executed_at: datetime
    settled_at: datetime
    payment_source: PaymentSource | None = None
    authorization_flow: AuthorizationFlow | None = None
    creditable_at: datetime | None = None
    settlement_stalled_at: datetime | None = None
    disputed_at: datetime | None = None
    disputed_reason: str | None = None
    reversed_at: datetime | None = None
    reversal_reason: str | None = None


@attrs.frozen(kw_only=True)
class PaymentFailed(_PaymentCommon):
    """The payment failed (final). ``failure_reason`` is an open string
    (``authorization_failed``, ``canceled``, ``expired``, ``provider_rejected``…)."""

    status: Literal["failed"] = "failed"
    failed_at: datetime
    failure_stage: str
    failure_reason: str
    failure_funds_stage: str | None = None
    authorization_flow: AuthorizationFlow | None = None
    payment_source: PaymentSource | None = None
    creditable_at: datetime | None = None
    settlement_stalled_at: datetime | None = None
    reversed_at: datetime | None = None
    reversal_reason: str | None = None


@attrs.frozen(kw_only=True)
class PaymentAttemptFailed(_PaymentCommon):
    """An attempt failed but the payment may be retried (``authorization_flow`` offers
    a ``retry`` action)."""

    status: Literal["attempt_failed"] = "attempt_failed"
    failed_at: datetime
    failure_stage: str
    failure_reason: str
    authorization_flow: AuthorizationFlow | None = None
    payment_source: PaymentSource | None = None


@attrs.frozen(kw_only=True)
class UnknownPayment:
    """A payment whose ``status`` this SDK version does not know (``raw`` has it all)."""

    status: str
    id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: A payment, told apart by ``status`` (``isinstance`` or ``match`` on the class).
Payment: TypeAlias = (
    PaymentAuthorizationRequired
    | PaymentAuthorizing
    | PaymentAuthorized
    | PaymentExecuted
    | PaymentSettled
    | PaymentFailed
    | PaymentAttemptFailed
    | UnknownPayment
)
tagged_union(
    Payment,
    "status",
    {
        "authorization_required": PaymentAuthorizationRequired,
        "authorizing": PaymentAuthorizing,
        "authorized": PaymentAuthorized,
        "executed": PaymentExecuted,
        "settled": PaymentSettled,
        "failed": PaymentFailed,
        "attempt_failed": PaymentAttemptFailed,
    },
    UnknownPayment,
)


# -- create response --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class HostedPageLink:
    """The hosted payment page to send the user to (when ``hosted_page`` was requested)."""

    uri: str


@attrs.frozen(kw_only=True)
class CreatedPayment:
    """What ``POST /v3/payments`` returns.

    ``resource_token`` is a bearer credential for this one payment (the front end may use
    it, the logs may not): it is a :class:`~truelayer_async.Secret`, call
    ``get_secret_value()`` to hand it on. ``status`` is ``authorization_required``
    (with ``hosted_page`` if requested), ``authorizing`` (with ``authorization_flow`` when
    the flow was started at creation), ``authorized``, or ``failed`` (with
    ``failure_stage`` and ``failure_reason``); an unknown status is kept as a string.
    """

    id: str
    user: PaymentUserRef
    resource_token: Secret
    status: str
    hosted_page: HostedPageLink | None = None
    authorization_flow: AuthorizationFlow | None = None
    failure_stage: str | None = None
    failure_reason: str | None = None

    @property
    def user_id(self) -> str:
        """The payment user's id (``user.id``)."""
        return self.user.id


def is_final(payment: Payment) -> bool:
    """Whether ``payment`` will not change status again: ``failed``, ``settled``, or
    ``executed`` unless it pays into a merchant account (those go on to ``settled``).

    An ``executed`` payment whose beneficiary is not known (a mandate payment, an
    unknown type) counts as final, so a poll never waits for a status that may not come.
    """
    status = payment.status
    if status == "executed":
        method = getattr(payment, "payment_method", None)
        beneficiary = getattr(method, "beneficiary", None)
        return getattr(beneficiary, "type", None) != "merchant_account"
    return status in ("failed", "settled")
