"""Typed inputs for ``tl.payouts.create``: the payout beneficiaries TrueLayer takes besides
:class:`~truelayer_async.models.ExternalAccountBeneficiary` (shared with payments), the
verification of a user-determined payout, and a provider preselected by id alone.

Each class checks its fields when built (``InvalidParameterError`` naming the class and
field, never the value); :func:`~truelayer_async.models.to_wire` turns it into JSON.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import attrs

from ..errors import InvalidParameterError
from ._checks import int_between, of_type, one_of, optional, reference_text, text
from .payment_inputs import PaymentUser, RemitterInput, UserSelectedProvider, _tag

__all__ = [
    "BusinessAccountBeneficiary",
    "PaymentSourceBeneficiary",
    "PayoutVerificationInput",
    "PreselectedProviderId",
    "TransactionSearchCriteria",
    "UserDeterminedBeneficiary",
]

#: Longest payout beneficiary reference (TrueLayer's limit for external accounts).
MAX_PAYOUT_REFERENCE = 18


def _reference() -> Any:
    return attrs.field(validator=reference_text(MAX_PAYOUT_REFERENCE))


def _tokens(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    # 1 to 5 search tokens of 3 to 50 characters each.
    where = f"{type(instance).__name__}.{attribute.name}"
    if not isinstance(value, tuple) or not 1 <= len(value) <= 5:
        raise InvalidParameterError(f"{where}: must hold 1 to 5 strings")
    if not all(isinstance(token, str) and 3 <= len(token) <= 50 for token in value):
        raise InvalidParameterError(f"{where}: each token must be 3 to 50 characters")


def check_filter_only(owner: str, selection: Any) -> None:
    """A :class:`UserSelectedProvider` for a payout or a mandate: only its ``filter`` (the
    scheme and remitter are payment-only fields)."""
    if isinstance(selection, UserSelectedProvider) and (
        selection.scheme_selection is not None or selection.remitter is not None
    ):
        raise InvalidParameterError(
            f"{owner}.provider_selection: here a UserSelectedProvider takes only a filter"
        )


@attrs.frozen(kw_only=True)
class PaymentSourceBeneficiary:
    """Pay back to an account that paid you: a settled payment's ``payment_source.id``
    (or one from ``tl.merchant_accounts.payment_sources``) and its ``user_id``."""

    type: Literal["payment_source"] = _tag("payment_source")
    payment_source_id: str = attrs.field(validator=text())
    user_id: str = attrs.field(validator=text())
    reference: str = _reference()


@attrs.frozen(kw_only=True)
class BusinessAccountBeneficiary:
    """Pay to your own business account registered with TrueLayer."""

    type: Literal["business_account"] = _tag("business_account")
    reference: str = _reference()


@attrs.frozen(kw_only=True)
class TransactionSearchCriteria:
    """Find a past transaction in the user's account: 1 to 5 ``tokens`` (3 to 50
    characters) from its reference, its ``amount_in_minor``, ``currency`` (GBP) and
    the date it was made."""

    tokens: tuple[str, ...] = attrs.field(converter=tuple, validator=_tokens)
    amount_in_minor: int = attrs.field(validator=int_between(1))
    created_at: date = attrs.field(validator=of_type(date))
    currency: str = attrs.field(default="GBP", validator=one_of("GBP"))


@attrs.frozen(kw_only=True)
class PayoutVerificationInput:
    """What TrueLayer checks before paying a user-determined beneficiary: the account
    holder's name (``verify_name``) and/or a past transaction."""

    verify_name: bool = attrs.field(validator=of_type(bool))
    transaction_search_criteria: TransactionSearchCriteria | None = attrs.field(
        default=None, validator=optional(of_type(TransactionSearchCriteria))
    )


@attrs.frozen(kw_only=True)
class PreselectedProviderId:
    """A bank you chose, by ``provider_id`` alone (payouts and mandates take no scheme);
    mandates also accept the ``remitter``'s account."""

    type: Literal["preselected"] = _tag("preselected")
    provider_id: str = attrs.field(validator=text())
    remitter: RemitterInput | None = attrs.field(
        default=None, validator=optional(of_type(RemitterInput))
    )


@attrs.frozen(kw_only=True)
class UserDeterminedBeneficiary:
    """A verified payout: the ``user`` picks (``provider_selection``) and authorises their
    own account, which TrueLayer checks (``verification``) before paying. The create call
    returns a ``resource_token`` for the payout authorization flow or hosted page."""

    type: Literal["user_determined"] = _tag("user_determined")
    reference: str = _reference()
    user: PaymentUser = attrs.field(validator=of_type(PaymentUser))
    verification: PayoutVerificationInput = attrs.field(validator=of_type(PayoutVerificationInput))
    provider_selection: UserSelectedProvider | PreselectedProviderId = attrs.field(
        validator=of_type(UserSelectedProvider, PreselectedProviderId)
    )

    def __attrs_post_init__(self) -> None:
        check_filter_only("UserDeterminedBeneficiary", self.provider_selection)
        selection = self.provider_selection
        chosen = selection.filter if isinstance(selection, UserSelectedProvider) else None
        if chosen is not None and (
            chosen.customer_segments is not None or set(chosen.countries or ()) - {"GB"}
        ):
            raise InvalidParameterError(
                "UserDeterminedBeneficiary.provider_selection.filter: payouts filter on "
                "countries GB only, without customer_segments"
            )
