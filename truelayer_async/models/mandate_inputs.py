"""Typed inputs for ``tl.mandates.create``: the VRP mandate (sweeping or commercial), its
beneficiary, and its constraints (amount per payment and per period).

Each class checks its fields when built (``InvalidParameterError`` naming the class and
field, never the value); :func:`~truelayer_async.models.to_wire` turns it into JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import attrs

from ..errors import InvalidParameterError
from ._checks import int_between, no_parentheses, of_type, one_of, optional, reference_text, text
from .payment_inputs import AccountIdentifierInput, UserSelectedProvider, _tag
from .payout_inputs import PreselectedProviderId, check_filter_only

__all__ = [
    "CommercialMandate",
    "MandateConstraintsInput",
    "MandateExternalAccount",
    "MandateMerchantAccount",
    "PeriodicLimitInput",
    "PeriodicLimitsInput",
    "SweepingMandate",
]

#: TrueLayer's bounds on ``maximum_individual_amount`` (minor units).
MAX_INDIVIDUAL_AMOUNT = 100_000_000
#: The periods a VRP mandate can limit, as TrueLayer names them.
PERIODS = ("day", "week", "fortnight", "month", "half_year", "year")
_IDENTIFIER_TYPES = AccountIdentifierInput.__args__


def _aware(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise InvalidParameterError(
            f"{type(instance).__name__}.{attribute.name}: must be a timezone-aware datetime"
        )


# -- beneficiary ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MandateMerchantAccount:
    """Payments on the mandate go to your merchant account (sweeping into an account the
    user owns, held with TrueLayer)."""

    type: Literal["merchant_account"] = _tag("merchant_account")
    merchant_account_id: str = attrs.field(validator=text())
    account_holder_name: str | None = attrs.field(
        default=None, validator=optional(*no_parentheses(40))
    )


@attrs.frozen(kw_only=True)
class MandateExternalAccount:
    """Payments on the mandate go to an account given by its identifier."""

    type: Literal["external_account"] = _tag("external_account")
    account_holder_name: str = attrs.field(validator=no_parentheses(40))
    account_identifier: AccountIdentifierInput = attrs.field(validator=of_type(*_IDENTIFIER_TYPES))


# -- the mandate ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _VrpMandate:
    provider_selection: UserSelectedProvider | PreselectedProviderId = attrs.field(
        validator=of_type(UserSelectedProvider, PreselectedProviderId)
    )
    beneficiary: MandateMerchantAccount | MandateExternalAccount = attrs.field(
        validator=of_type(MandateMerchantAccount, MandateExternalAccount)
    )
    reference: str | None = attrs.field(default=None, validator=optional(*reference_text(18)))
    statement_reference: str | None = attrs.field(
        default=None, validator=optional(*reference_text(18))
    )

    def __attrs_post_init__(self) -> None:
        check_filter_only(type(self).__name__, self.provider_selection)


@attrs.frozen(kw_only=True)
class SweepingMandate(_VrpMandate):
    """A VRP sweeping mandate: moving money between accounts the same person owns.

    ``provider_selection``: :class:`UserSelectedProvider` (``filter`` only) or
    :class:`PreselectedProviderId`; ``reference`` and ``statement_reference``: at most
    18 characters from TrueLayer's reference set. Created with the
    ``recurring_payments:sweeping`` scope.
    """

    type: Literal["sweeping"] = _tag("sweeping")


@attrs.frozen(kw_only=True)
class CommercialMandate(_VrpMandate):
    """A commercial VRP mandate (needs a contract with TrueLayer); fields as
    :class:`SweepingMandate`. Created with the ``recurring_payments:commercial`` scope."""

    type: Literal["commercial"] = _tag("commercial")


# -- constraints ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PeriodicLimitInput:
    """At most ``maximum_amount`` (minor units) per period. ``period_alignment``:
    ``consent`` (periods start when the mandate is authorised) or ``calendar`` (calendar
    periods; the first is pro-rated)."""

    maximum_amount: int = attrs.field(validator=int_between(1))
    period_alignment: str = attrs.field(validator=one_of("consent", "calendar"))


_OPTIONAL_LIMIT = optional(of_type(PeriodicLimitInput))


@attrs.frozen(kw_only=True)
class PeriodicLimitsInput:
    """The limit per period; give at least one."""

    day: PeriodicLimitInput | None = attrs.field(default=None, validator=_OPTIONAL_LIMIT)
    week: PeriodicLimitInput | None = attrs.field(default=None, validator=_OPTIONAL_LIMIT)
    fortnight: PeriodicLimitInput | None = attrs.field(default=None, validator=_OPTIONAL_LIMIT)
    month: PeriodicLimitInput | None = attrs.field(default=None, validator=_OPTIONAL_LIMIT)
    half_year: PeriodicLimitInput | None = attrs.field(default=None, validator=_OPTIONAL_LIMIT)
    year: PeriodicLimitInput | None = attrs.field(default=None, validator=_OPTIONAL_LIMIT)

    def __attrs_post_init__(self) -> None:
        if all(getattr(self, period) is None for period in PERIODS):
            raise InvalidParameterError("PeriodicLimitsInput: give at least one period's limit")


@attrs.frozen(kw_only=True)
class MandateConstraintsInput:
    """A VRP mandate's constraints: each payment at most ``maximum_individual_amount``
    (1 to 100,000,000 minor units), each period's total within ``periodic_limits`` (every
    ``maximum_amount`` at least ``maximum_individual_amount``), payments allowed from
    ``valid_from`` until ``valid_to`` (timezone-aware; both optional)."""

    maximum_individual_amount: int = attrs.field(validator=int_between(1, MAX_INDIVIDUAL_AMOUNT))
    periodic_limits: PeriodicLimitsInput = attrs.field(validator=of_type(PeriodicLimitsInput))
    valid_from: datetime | None = attrs.field(default=None, validator=_aware)
    valid_to: datetime | None = attrs.field(default=None, validator=_aware)

    def __attrs_post_init__(self) -> None:
        for period in PERIODS:
            limit: PeriodicLimitInput | None = getattr(self.periodic_limits, period)
            if limit is not None and limit.maximum_amount < self.maximum_individual_amount:
                raise InvalidParameterError(
                    f"MandateConstraintsInput.periodic_limits.{period}.maximum_amount: must be "
                    "at least maximum_individual_amount"
                )
        if (
            self.valid_from is not None
            and self.valid_to is not None
            and self.valid_from >= self.valid_to
        ):
            raise InvalidParameterError(
                "MandateConstraintsInput.valid_to: must be after valid_from"
            )
