"""Typed inputs for Payments v3 requests: payment methods, provider and scheme selection,
beneficiaries, account identifiers, the payment user, hosted-page and authorization-flow
options.

Every class is frozen and checks its fields when built: a value TrueLayer would refuse
raises :class:`~truelayer_async.errors.InvalidParameterError` naming the class and field
(never the value), before anything is sent. :func:`to_wire` turns any of them into the JSON
object TrueLayer expects (``None`` fields left out).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal, TypeAlias

import attrs

from .._secret import Secret
from ._checks import (
    int_between,
    no_parentheses,
    of_type,
    one_of,
    optional,
    pattern,
    reference_text,
    strings,
    text,
)
from .common import WIRE_NAME

__all__ = [
    "AccountIdentifierInput",
    "Address",
    "AuthorizationFlowOptions",
    "BankTransfer",
    "Bban",
    "ConsentOptions",
    "ExternalAccountBeneficiary",
    "FormOptions",
    "HostedPageOptions",
    "Iban",
    "InstantOnly",
    "InstantPreferred",
    "MandatePaymentMethod",
    "MerchantAccountBeneficiary",
    "Nrb",
    "PaymentUser",
    "PreselectedProvider",
    "PreselectedScheme",
    "ProviderExcludes",
    "ProviderFilter",
    "ProviderIcon",
    "ProviderSelectionOptions",
    "RedirectOptions",
    "RemitterInput",
    "SchemeSelectionOptions",
    "SmartRetry",
    "SortCodeAccountNumber",
    "StandardRetry",
    "UserAccountSelectionOptions",
    "UserSelectedProvider",
    "UserSelectedScheme",
    "to_wire",
]

_SORT_CODE = re.compile(r"[0-9]{6}")
_ACCOUNT_NUMBER = re.compile(r"[0-9]{8}")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_LANGUAGE = re.compile(r"[a-z]{2}")
_DURATION = re.compile(r"[1-9][0-9]*[mhd]")


def _tag(value: str) -> Any:
    # The wire discriminator: fixed per class (the default), sent on the wire.
    return attrs.field(default=value, validator=one_of(value))


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _optional_tuple(value: Any) -> Any:
    return None if value is None else _tuple(value)


def _secret_or_none(value: str | Secret | None) -> Secret | None:
    return None if value is None else Secret.of(value)


# -- account identifiers ----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SortCodeAccountNumber:
    """A UK account: ``sort_code`` (6 digits) and ``account_number`` (8 digits)."""

    type: Literal["sort_code_account_number"] = _tag("sort_code_account_number")
    sort_code: str = attrs.field(validator=pattern(_SORT_CODE, "must be 6 digits"))
    account_number: str = attrs.field(validator=pattern(_ACCOUNT_NUMBER, "must be 8 digits"))


@attrs.frozen(kw_only=True)
class Iban:
    """An IBAN: 15 to 34 characters, country code and check digits first, no spaces."""

    type: Literal["iban"] = _tag("iban")
    iban: str = attrs.field(
        validator=pattern(_IBAN, "must be 15 to 34 characters: 2 letters, 2 digits, then A-Z 0-9")
    )


@attrs.frozen(kw_only=True)
class Bban:
    """A BBAN (basic bank account number)."""

    type: Literal["bban"] = _tag("bban")
    bban: str = attrs.field(validator=text(max_len=30))


@attrs.frozen(kw_only=True)
class Nrb:
    """A Polish NRB (26 digits)."""

    type: Literal["nrb"] = _tag("nrb")
    nrb: str = attrs.field(validator=pattern(re.compile(r"[0-9]{26}"), "must be 26 digits"))


#: Any account identifier input.
AccountIdentifierInput: TypeAlias = SortCodeAccountNumber | Iban | Bban | Nrb
_IDENTIFIERS = (SortCodeAccountNumber, Iban, Bban, Nrb)


# -- provider and scheme selection ------------------------------------------------------


@attrs.frozen(kw_only=True)
class InstantOnly:
    """Only instant schemes (``instant_only``)."""

    type: Literal["instant_only"] = _tag("instant_only")
    allow_remitter_fee: bool | None = None
    instant_override_provider_ids: tuple[str, ...] | None = attrs.field(
        default=None, converter=_optional_tuple, validator=optional(strings())
    )
    non_instant_override_provider_ids: tuple[str, ...] | None = attrs.field(
        default=None, converter=_optional_tuple, validator=optional(strings())
    )


@attrs.frozen(kw_only=True)
class InstantPreferred:
    """Instant schemes when the bank offers one, else the others (``instant_preferred``)."""

    type: Literal["instant_preferred"] = _tag("instant_preferred")
    allow_remitter_fee: bool | None = None
    instant_override_provider_ids: tuple[str, ...] | None = attrs.field(
        default=None, converter=_optional_tuple, validator=optional(strings())
    )
    non_instant_override_provider_ids: tuple[str, ...] | None = attrs.field(
        default=None, converter=_optional_tuple, validator=optional(strings())
    )


@attrs.frozen(kw_only=True)
class UserSelectedScheme:
    """The user picks the scheme in the authorization flow (``user_selected``)."""

    type: Literal["user_selected"] = _tag("user_selected")


@attrs.frozen(kw_only=True)
class PreselectedScheme:
    """A scheme chosen by you (preselected providers only)."""

    type: Literal["preselected"] = _tag("preselected")
    scheme_id: str = attrs.field(validator=text())


_SCHEMES = (InstantOnly, InstantPreferred, UserSelectedScheme, PreselectedScheme)


@attrs.frozen(kw_only=True)
class RemitterInput:
    """The paying account, when you know it (name ≤ 80 characters, no parentheses)."""

    account_holder_name: str | None = attrs.field(
        default=None, validator=optional(*no_parentheses(80))
    )
    account_identifier: AccountIdentifierInput | None = attrs.field(
        default=None, validator=optional(of_type(*_IDENTIFIERS))
    )


@attrs.frozen(kw_only=True)
class ProviderExcludes:
    """Providers to leave out of the bank picker."""

    provider_ids: tuple[str, ...] = attrs.field(converter=_tuple, validator=strings())


@attrs.frozen(kw_only=True)
class ProviderFilter:
    """Which banks the user may pick from (countries, release channel, segments, ids)."""

    countries: tuple[str, ...] | None = attrs.field(
        default=None, converter=_optional_tuple, validator=optional(strings())
    )
    release_channel: str | None = attrs.field(
        default=None,
        validator=optional(one_of("general_availability", "public_beta", "private_beta")),
    )
    customer_segments: tuple[str, ...] | None = attrs.field(
        default=None, converter=_optional_tuple, validator=optional(strings())
    )
    provider_ids: tuple[str, ...] | None = attrs.field(
        default=None, converter=_optional_tuple, validator=optional(strings())
    )
    excludes: ProviderExcludes | None = None


@attrs.frozen(kw_only=True)
class UserSelectedProvider:
    """The user picks their bank in the authorization flow (optionally ``filter``-ed)."""

    type: Literal["user_selected"] = _tag("user_selected")
    filter: ProviderFilter | None = attrs.field(
        default=None, validator=optional(of_type(ProviderFilter))
    )
    scheme_selection: InstantOnly | InstantPreferred | UserSelectedScheme | None = attrs.field(
        default=None,
        validator=optional(of_type(InstantOnly, InstantPreferred, UserSelectedScheme)),
    )
    remitter: RemitterInput | None = attrs.field(
        default=None, validator=optional(of_type(RemitterInput))
    )


@attrs.frozen(kw_only=True)
class PreselectedProvider:
    """You chose the bank (``provider_id``) and the scheme.

    ``data_access_token`` (a Data API access token, for account pre-filling) is kept as a
    :class:`~truelayer_async.Secret`.
    """

    type: Literal["preselected"] = _tag("preselected")
    provider_id: str = attrs.field(validator=text())
    scheme_selection: InstantOnly | InstantPreferred | UserSelectedScheme | PreselectedScheme = (
        attrs.field(validator=of_type(*_SCHEMES))
    )
    remitter: RemitterInput | None = attrs.field(
        default=None, validator=optional(of_type(RemitterInput))
    )
    data_access_token: Secret | None = attrs.field(
        default=None,
        converter=_secret_or_none,
        repr=False,
    )


# -- beneficiaries ----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MerchantAccountBeneficiary:
    """Pay into your TrueLayer merchant account. ``reference`` ≤ 100 and
    ``statement_reference`` ≤ 18 characters from TrueLayer's reference set."""

    type: Literal["merchant_account"] = _tag("merchant_account")
    merchant_account_id: str = attrs.field(validator=text())
    account_holder_name: str | None = attrs.field(
        default=None, validator=optional(*no_parentheses(40))
    )
    reference: str | None = attrs.field(default=None, validator=optional(*reference_text(100)))
    statement_reference: str | None = attrs.field(
        default=None, validator=optional(*reference_text(18))
    )
    verification: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class ExternalAccountBeneficiary:
    """Pay into any account: ``account_holder_name`` ≤ 40 characters without parentheses,
    ``reference`` ≤ 18 characters from TrueLayer's reference set."""

    type: Literal["external_account"] = _tag("external_account")
    account_holder_name: str = attrs.field(validator=no_parentheses(40))
    account_identifier: AccountIdentifierInput = attrs.field(validator=of_type(*_IDENTIFIERS))
    reference: str = attrs.field(validator=reference_text(18))


# -- payment methods --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BankTransfer:
    """An open-banking bank transfer. ``retry={}`` opts in to retries (GBP only)."""

    type: Literal["bank_transfer"] = _tag("bank_transfer")
    provider_selection: UserSelectedProvider | PreselectedProvider = attrs.field(
        validator=of_type(UserSelectedProvider, PreselectedProvider)
    )
    beneficiary: MerchantAccountBeneficiary | ExternalAccountBeneficiary = attrs.field(
        validator=of_type(MerchantAccountBeneficiary, ExternalAccountBeneficiary)
    )
    retry: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class StandardRetry:
    """Retry a mandate payment for ``for_`` (``30m`` to ``6h``)."""

    type: Literal["standard"] = _tag("standard")
    for_: str = attrs.field(
        metadata={WIRE_NAME: "for"},
        validator=pattern(_DURATION, "must be a duration such as 30m or 6h"),
    )


@attrs.frozen(kw_only=True)
class SmartRetry:
    """Retry a mandate payment smartly for ``for_`` (``30m`` to ``90d``)."""

    type: Literal["smart"] = _tag("smart")
    for_: str = attrs.field(
        metadata={WIRE_NAME: "for"},
        validator=pattern(_DURATION, "must be a duration such as 30m, 6h or 90d"),
    )
    ensure_minimum_balance_in_minor: int | None = attrs.field(
        default=None, validator=optional(int_between(0))
    )


@attrs.frozen(kw_only=True)
class MandatePaymentMethod:
    """A payment on an authorised mandate (no user journey)."""

    type: Literal["mandate"] = _tag("mandate")
    mandate_id: str = attrs.field(validator=text())
    reference: str | None = attrs.field(default=None, validator=optional(*reference_text(18)))
    retry: StandardRetry | SmartRetry | None = attrs.field(
        default=None, validator=optional(of_type(StandardRetry, SmartRetry))
    )


# -- the user ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Address:
    """A postal address (lines, city and state ≤ 50, zip ≤ 20, ISO country code)."""

    address_line1: str = attrs.field(validator=text(max_len=50))
    city: str = attrs.field(validator=text(max_len=50))
    zip: str = attrs.field(validator=text(max_len=20))
    country_code: str = attrs.field(validator=pattern(_COUNTRY, "must be 2 capital letters"))
    address_line2: str | None = attrs.field(default=None, validator=optional(text(max_len=50)))
    state: str | None = attrs.field(default=None, validator=optional(text(max_len=50)))


@attrs.frozen(kw_only=True)
class PaymentUser:
    """The paying user. Reuse ``id`` (from an earlier payment) to link payments; otherwise
    TrueLayer makes one. ``name`` must not contain parentheses."""

    id: str | None = attrs.field(default=None, validator=optional(text()))
    name: str | None = attrs.field(default=None, validator=optional(*no_parentheses(200)))
    email: str | None = attrs.field(default=None, validator=optional(text(max_len=320)))
    phone: str | None = attrs.field(default=None, validator=optional(text(max_len=32)))
    date_of_birth: date | None = attrs.field(default=None, validator=optional(of_type(date)))
    address: Address | None = attrs.field(default=None, validator=optional(of_type(Address)))
    political_exposure: str | None = attrs.field(
        default=None, validator=optional(one_of("current", "none"))
    )


# -- hosted page and authorization flow -------------------------------------------------


@attrs.frozen(kw_only=True)
class HostedPageOptions:
    """Ask for a hosted payment page at creation (``hosted_page.uri`` comes back).
    ``max_wait_for_result`` is 0 to 60 seconds."""

    return_uri: str = attrs.field(validator=text())
    country_code: str | None = attrs.field(
        default=None, validator=optional(pattern(_COUNTRY, "must be 2 capital letters"))
    )
    language_code: str | None = attrs.field(
        default=None, validator=optional(pattern(_LANGUAGE, "must be 2 small letters"))
    )
    max_wait_for_result: int | None = attrs.field(
        default=None, validator=optional(int_between(0, 60))
    )


@attrs.frozen(kw_only=True)
class ProviderIcon:
    """The icon style for providers (``default``, ``extended``, ``extended_small``…)."""

    type: str = attrs.field(
        validator=one_of(
            "default", "extended", "extended_small", "extended_medium", "extended_large"
        )
    )


@attrs.frozen(kw_only=True)
class ProviderSelectionOptions:
    """Your front end can show a bank picker."""

    icon: ProviderIcon | None = None


@attrs.frozen(kw_only=True)
class SchemeSelectionOptions:
    """Your front end can show a scheme picker."""


@attrs.frozen(kw_only=True)
class UserAccountSelectionOptions:
    """Your front end can offer the user's saved accounts."""


@attrs.frozen(kw_only=True)
class RedirectOptions:
    """Your front end can send the user to their bank; they come back to ``return_uri``
    (allow-listed in Console) or straight to ``direct_return_uri``."""

    return_uri: str = attrs.field(validator=text())
    direct_return_uri: str | None = attrs.field(default=None, validator=optional(text()))


@attrs.frozen(kw_only=True)
class FormOptions:
    """Your front end can render forms with these ``input_types`` (``text``,
    ``text_with_image``, ``select``)."""

    input_types: tuple[str, ...] = attrs.field(converter=_tuple, validator=strings(min_items=1))


@attrs.frozen(kw_only=True)
class ConsentOptions:
    """Your front end collects consent (``action_type`` ``explicit`` or ``adjacent``)."""

    action_type: str | None = attrs.field(
        default=None, validator=optional(one_of("explicit", "adjacent"))
    )
    requirements: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class AuthorizationFlowOptions:
    """What your front end can do in the authorization flow (the start body, also accepted
    as ``authorization_flow`` when creating a payment)."""

    provider_selection: ProviderSelectionOptions | None = None
    scheme_selection: SchemeSelectionOptions | None = None
    redirect: RedirectOptions | None = None
    form: FormOptions | None = None
    consent: ConsentOptions | None = None
    user_account_selection: UserAccountSelectionOptions | None = None


def to_wire(value: Any, *, keep_secrets: bool = False) -> dict[str, Any]:
    """The JSON object TrueLayer expects for an input (``None`` fields left out, tuples as
    lists, dates as ``YYYY-MM-DD``, secrets unwrapped). ``keep_secrets=True`` leaves
    :class:`~truelayer_async.Secret` values wrapped (what the services send: the request
    layer unwraps them only while encoding, so no frame on an error holds them)."""
    from .._converter import unstructure, unstructure_request  # it imports this package

    wire: dict[str, Any] = unstructure_request(value) if keep_secrets else unstructure(value)
    return wire
