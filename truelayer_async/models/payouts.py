"""Payouts v3: a payout (one class per ``status``), its beneficiary (a tagged union on
``type``), the create-payout response, and the payout authorization flow of verified
(``user_determined``) payouts.

Money is ``amount_in_minor: int`` with ``currency`` (GBP, EUR or PLN); timestamps are
aware ``datetime``; open enums (``failure_reason``, ``scheme_id``) are plain strings; an
unknown ``status`` or ``type`` decodes to the ``Unknown…`` variant with ``raw``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeAlias

import attrs

from .._secret import Secret
from ._tagged import tagged_union
from .payment_common import AccountIdentifier, ActionRedirect, PaymentUserRef

__all__ = [
    "TERMINAL_PAYOUT_STATUSES",
    "CreatedPayout",
    "Payout",
    "PayoutAuthorizationFlow",
    "PayoutAuthorizationFlowActions",
    "PayoutAuthorizationFlowAuthorizing",
    "PayoutAuthorizationFlowCompleted",
    "PayoutAuthorizationFlowCreated",
    "PayoutAuthorizationRequired",
    "PayoutAuthorized",
    "PayoutAuthorizing",
    "PayoutBeneficiary",
    "PayoutBeneficiaryBusinessAccount",
    "PayoutBeneficiaryExternalAccount",
    "PayoutBeneficiaryPaymentSource",
    "PayoutBeneficiaryUserDetermined",
    "PayoutExecuted",
    "PayoutFailed",
    "PayoutPending",
    "PayoutVerification",
    "UnknownPayout",
    "UnknownPayoutAuthorizationFlow",
    "UnknownPayoutBeneficiary",
]

#: Statuses after which ``wait_for`` stops by default (an ``executed`` payout can still
#: turn ``failed`` when the receiving bank returns it).
TERMINAL_PAYOUT_STATUSES = frozenset({"executed", "failed"})


# -- beneficiary ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PayoutBeneficiaryExternalAccount:
    """Paid to any account, given by its identifiers."""

    type: Literal["external_account"] = "external_account"
    reference: str
    account_holder_name: str
    account_identifiers: tuple[AccountIdentifier, ...] = ()


@attrs.frozen(kw_only=True)
class PayoutBeneficiaryPaymentSource:
    """Paid back to an account that paid you (closed loop)."""

    type: Literal["payment_source"] = "payment_source"
    payment_source_id: str
    user_id: str
    reference: str
    account_holder_name: str | None = None
    account_identifiers: tuple[AccountIdentifier, ...] = ()


@attrs.frozen(kw_only=True)
class PayoutBeneficiaryBusinessAccount:
    """Paid to your own business account registered with TrueLayer."""

    type: Literal["business_account"] = "business_account"
    reference: str
    account_holder_name: str | None = None
    account_identifiers: tuple[AccountIdentifier, ...] = ()


@attrs.frozen(kw_only=True)
class PayoutVerification:
    """What TrueLayer checks of a verified payout's account (``verify_name``, and
    ``transaction_search_criteria`` as sent)."""

    verify_name: bool | None = None
    transaction_search_criteria: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class PayoutBeneficiaryUserDetermined:
    """A verified payout: the user picks and authorises their own account (its holder
    name and identifiers appear once known)."""

    type: Literal["user_determined"] = "user_determined"
    reference: str
    user: PaymentUserRef | None = None
    account_holder_name: str | None = None
    account_identifiers: tuple[AccountIdentifier, ...] = ()
    verification: PayoutVerification | None = None


@attrs.frozen(kw_only=True)
class UnknownPayoutBeneficiary:
    """A beneficiary ``type`` this SDK version does not know (``raw`` has it)."""

    type: str
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: Where a payout goes, told apart by ``type``.
PayoutBeneficiary: TypeAlias = (
    PayoutBeneficiaryExternalAccount
    | PayoutBeneficiaryPaymentSource
    | PayoutBeneficiaryBusinessAccount
    | PayoutBeneficiaryUserDetermined
    | UnknownPayoutBeneficiary
)
tagged_union(
    PayoutBeneficiary,
    "type",
    {
        "external_account": PayoutBeneficiaryExternalAccount,
        "payment_source": PayoutBeneficiaryPaymentSource,
        "business_account": PayoutBeneficiaryBusinessAccount,
        "user_determined": PayoutBeneficiaryUserDetermined,
    },
    UnknownPayoutBeneficiary,
)


# -- the payout, by status --------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _PayoutCommon:
    id: str
    merchant_account_id: str
    amount_in_minor: int
    currency: str
    beneficiary: PayoutBeneficiary
    created_at: datetime
    metadata: dict[str, str] | None = None
    scheme_id: str | None = None


@attrs.frozen(kw_only=True)
class PayoutAuthorizationRequired(_PayoutCommon):
    """A verified payout waiting for the user to start its authorization flow."""

    status: Literal["authorization_required"] = "authorization_required"


@attrs.frozen(kw_only=True)
class PayoutAuthorizing(_PayoutCommon):
    """A verified payout whose user is choosing and authorising their account."""

    status: Literal["authorizing"] = "authorizing"


@attrs.frozen(kw_only=True)
class PayoutPending(_PayoutCommon):
    """Created, not yet sent to the payment scheme."""

    status: Literal["pending"] = "pending"


@attrs.frozen(kw_only=True)
class PayoutAuthorized(_PayoutCommon):
    """Sent to the payment scheme."""

    status: Literal["authorized"] = "authorized"


@attrs.frozen(kw_only=True)
class PayoutExecuted(_PayoutCommon):
    """Deducted from the merchant account (not proof that the beneficiary was credited)."""

    status: Literal["executed"] = "executed"
    executed_at: datetime


@attrs.frozen(kw_only=True)
class PayoutFailed(_PayoutCommon):
    """Not deducted, or returned after execution (``failure_reason`` ``returned``, with
    ``executed_at``). ``failure_reason`` is an open string (``insufficient_funds``,
    ``blocked``, ``verification_name_mismatch``…)."""

    status: Literal["failed"] = "failed"
    failed_at: datetime
    failure_reason: str
    executed_at: datetime | None = None


@attrs.frozen(kw_only=True)
class UnknownPayout:
    """A payout whose ``status`` this SDK version does not know (``raw`` has it all)."""

    status: str
    id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: A payout, told apart by ``status`` (``isinstance`` or ``match`` on the class).
Payout: TypeAlias = (
    PayoutAuthorizationRequired
    | PayoutAuthorizing
    | PayoutPending
    | PayoutAuthorized
    | PayoutExecuted
    | PayoutFailed
    | UnknownPayout
)
tagged_union(
    Payout,
    "status",
    {
        "authorization_required": PayoutAuthorizationRequired,
        "authorizing": PayoutAuthorizing,
        "pending": PayoutPending,
        "authorized": PayoutAuthorized,
        "executed": PayoutExecuted,
        "failed": PayoutFailed,
    },
    UnknownPayout,
)


# -- create response --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CreatedPayout:
    """What ``POST /v3/payouts`` returns: the payout ``id``; for a ``user_determined``
    beneficiary also ``status`` (``authorization_required``), the payout's
    ``resource_token`` (a :class:`~truelayer_async.Secret`: a bearer credential for the
    payout authorization flow and hosted page) and ``user``."""

    id: str
    status: str | None = None
    resource_token: Secret | None = None
    user: PaymentUserRef | None = None


# -- payout authorization flow (verified payouts) ---------------------------------------


@attrs.frozen(kw_only=True)
class PayoutAuthorizationFlowActions:
    """``next`` is always a redirect: send the user to ``next.uri``."""

    next: ActionRedirect


@attrs.frozen(kw_only=True)
class PayoutAuthorizationFlowCreated:
    """The flow has not been started."""

    status: Literal["created"] = "created"


@attrs.frozen(kw_only=True)
class PayoutAuthorizationFlowAuthorizing:
    """The flow is under way: redirect the user to ``actions.next.uri``."""

    status: Literal["authorizing"] = "authorizing"
    actions: PayoutAuthorizationFlowActions


@attrs.frozen(kw_only=True)
class PayoutAuthorizationFlowCompleted:
    """The flow is over; ``failure_reason`` (``account_not_valid``, ``internal_error``…)
    when it failed."""

    status: Literal["completed"] = "completed"
    failure_reason: str | None = None


@attrs.frozen(kw_only=True)
class UnknownPayoutAuthorizationFlow:
    """A flow ``status`` this SDK version does not know (``raw`` has the object)."""

    status: str
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: A payout's authorization flow, told apart by ``status``.
PayoutAuthorizationFlow: TypeAlias = (
    PayoutAuthorizationFlowCreated
    | PayoutAuthorizationFlowAuthorizing
    | PayoutAuthorizationFlowCompleted
    | UnknownPayoutAuthorizationFlow
)
tagged_union(
    PayoutAuthorizationFlow,
    "status",
    {
        "created": PayoutAuthorizationFlowCreated,
        "authorizing": PayoutAuthorizationFlowAuthorizing,
        "completed": PayoutAuthorizationFlowCompleted,
    },
    UnknownPayoutAuthorizationFlow,
)
