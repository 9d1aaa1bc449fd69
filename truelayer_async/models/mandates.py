"""Mandates v3 (VRP sweeping and commercial, and direct debit): a mandate (one class per
``status``), its constraints and their usage, the create-mandate response and funds
confirmation. The authorization flow answers with
:data:`~truelayer_async.models.AuthorizationFlowResult`, as for payments.

``type`` is ``sweeping``, ``commercial`` or ``direct_debit`` (kept as a string, so a new
type decodes too); an unknown ``status`` decodes to :class:`UnknownMandate` with ``raw``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, TypeAlias

import attrs

from .._secret import Secret
from ._tagged import tagged_union
from .payment_common import AccountIdentifier, AuthorizationFlow, PaymentUserRef
from .payments import ProviderSelection, Remitter

__all__ = [
    "TERMINAL_MANDATE_STATUSES",
    "CreatedMandate",
    "FundsConfirmation",
    "Mandate",
    "MandateAuthorizationRequired",
    "MandateAuthorized",
    "MandateAuthorizing",
    "MandateBeneficiary",
    "MandateBeneficiaryExternalAccount",
    "MandateBeneficiaryMerchantAccount",
    "MandateConstraints",
    "MandateConstraintsUsage",
    "MandateFailed",
    "MandateRevoked",
    "PeriodUsage",
    "PeriodUsages",
    "PeriodicLimit",
    "PeriodicLimits",
    "UnknownMandate",
    "UnknownMandateBeneficiary",
]

#: Statuses a mandate never leaves.
TERMINAL_MANDATE_STATUSES = frozenset({"revoked", "failed"})


# -- constraints ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PeriodicLimit:
    """At most ``maximum_amount`` per period; ``period_alignment`` ``consent`` (periods
    start when the mandate does) or ``calendar`` (the first period is pro-rated)."""

    maximum_amount: int
    period_alignment: str


@attrs.frozen(kw_only=True)
class PeriodicLimits:
    """The limit of each period a mandate sets (``None``: no limit for that period)."""

    day: PeriodicLimit | None = None
    week: PeriodicLimit | None = None
    fortnight: PeriodicLimit | None = None
    month: PeriodicLimit | None = None
    half_year: PeriodicLimit | None = None
    year: PeriodicLimit | None = None


@attrs.frozen(kw_only=True)
class MandateConstraints:
    """A VRP mandate's constraints: each payment at most ``maximum_individual_amount``,
    within ``periodic_limits``, between ``valid_from`` and ``valid_to``."""

    maximum_individual_amount: int
    periodic_limits: PeriodicLimits
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@attrs.frozen(kw_only=True)
class PeriodUsage:
    """How much of one period's limit is used: ``current_amount`` paid so far and
    ``maximum_available_amount`` left, for ``start_date`` to ``end_date``."""

    period_alignment: str
    maximum_available_amount: int
    current_amount: int
    start_date: date
    end_date: date


@attrs.frozen(kw_only=True)
class PeriodUsages:
    """The usage of each period the mandate limits."""

    day: PeriodUsage | None = None
    week: PeriodUsage | None = None
    fortnight: PeriodUsage | None = None
    month: PeriodUsage | None = None
    half_year: PeriodUsage | None = None
    year: PeriodUsage | None = None


@attrs.frozen(kw_only=True)
class MandateConstraintsUsage:
    """What ``GET /v3/mandates/{id}/constraints`` returns: the limits and how much of
    each period is used."""

    maximum_individual_amount: int
    periodic_limits: PeriodUsages
    valid_from: datetime | None = None
    valid_to: datetime | None = None


# -- beneficiary ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MandateBeneficiaryMerchantAccount:
    """Payments on the mandate go to one of your merchant accounts."""

    type: Literal["merchant_account"] = "merchant_account"
    merchant_account_id: str
    account_holder_name: str | None = None
    reference: str | None = None


@attrs.frozen(kw_only=True)
class MandateBeneficiaryExternalAccount:
    """Payments on the mandate go to an account given by its identifier."""

    type: Literal["external_account"] = "external_account"
    account_holder_name: str
    account_identifier: AccountIdentifier
    reference: str | None = None


@attrs.frozen(kw_only=True)
class UnknownMandateBeneficiary:
    """A beneficiary ``type`` this SDK version does not know (``raw`` has it)."""

    type: str
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: Where payments on a mandate go, told apart by ``type``.
MandateBeneficiary: TypeAlias = (
    MandateBeneficiaryMerchantAccount
    | MandateBeneficiaryExternalAccount
    | UnknownMandateBeneficiary
)
tagged_union(
    MandateBeneficiary,
    "type",
    {
        "merchant_account": MandateBeneficiaryMerchantAccount,
        "external_account": MandateBeneficiaryExternalAccount,
    },
    UnknownMandateBeneficiary,
)


# -- the mandate, by status -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _MandateCommon:
    id: str
    type: str
    currency: str
    created_at: datetime
    beneficiary: MandateBeneficiary | None = None
    reference: str | None = None
    statement_reference: str | None = None
    provider_selection: ProviderSelection | None = None
    user: PaymentUserRef | None = None
    constraints: MandateConstraints | None = None
    remitter: Remitter | None = None
    metadata: dict[str, str] | None = None
    sub_merchants: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class MandateAuthorizationRequired(_MandateCommon):
    """Created; the authorization flow has not started."""

    status: Literal["authorization_required"] = "authorization_required"


@attrs.frozen(kw_only=True)
class MandateAuthorizing(_MandateCommon):
    """The user is authorising; ``authorization_flow.actions.next`` says what comes
    next."""

    status: Literal["authorizing"] = "authorizing"
    authorization_flow: AuthorizationFlow | None = None


@attrs.frozen(kw_only=True)
class MandateAuthorized(_MandateCommon):
    """Consent granted: payments within the constraints may be made on it."""

    status: Literal["authorized"] = "authorized"
    authorized_at: datetime | None = None
    authorization_flow: AuthorizationFlow | None = None


@attrs.frozen(kw_only=True)
class MandateFailed(_MandateCommon):
    """Could not be authorised (``failure_stage``, ``failure_reason`` open strings)."""

    status: Literal["failed"] = "failed"
    failure_stage: str
    failure_reason: str
    failed_at: datetime | None = None
    authorization_flow: AuthorizationFlow | None = None


@attrs.frozen(kw_only=True)
class MandateRevoked(_MandateCommon):
    """Revoked by you (``revocation_source`` ``client``) or at the bank (``provider``)."""

    status: Literal["revoked"] = "revoked"
    revocation_source: str
    authorized_at: datetime | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    authorization_flow: AuthorizationFlow | None = None


@attrs.frozen(kw_only=True)
class UnknownMandate:
    """A mandate whose ``status`` this SDK version does not know (``raw`` has it all)."""

    status: str
    id: str | None = None
    type: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: A mandate, told apart by ``status`` (``isinstance`` or ``match`` on the class).
Mandate: TypeAlias = (
    MandateAuthorizationRequired
    | MandateAuthorizing
    | MandateAuthorized
    | MandateFailed
    | MandateRevoked
    | UnknownMandate
)
tagged_union(
    Mandate,
    "status",
    {
        "authorization_required": MandateAuthorizationRequired,
        "authorizing": MandateAuthorizing,
        "authorized": MandateAuthorized,
        "failed": MandateFailed,
        "revoked": MandateRevoked,
    },
    UnknownMandate,
)


# -- create response and funds ----------------------------------------------------------


@attrs.frozen(kw_only=True)
class CreatedMandate:
    """What ``POST /v3/mandates`` returns. ``resource_token`` (with ``status``
    ``authorization_required``) is a bearer credential for this mandate: a
    :class:`~truelayer_async.Secret`; ``get_secret_value()`` hands it on (to the hosted
    page, or as ``resource_token=`` of the mandate calls)."""

    id: str
    user: PaymentUserRef
    status: str
    resource_token: Secret | None = None

    @property
    def user_id(self) -> str:
        """The mandate user's id (``user.id``)."""
        return self.user.id


@attrs.frozen(kw_only=True)
class FundsConfirmation:
    """Whether the payer's account holds the amount asked about, and when checked."""

    confirmed: bool
    confirmed_at: datetime | None = None
