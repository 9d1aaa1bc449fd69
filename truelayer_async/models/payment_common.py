"""Pieces shared by Payments v3 responses: account identifiers, payment sources, the
payment user, and the authorization flow (its ``next`` actions and its results).

Every union here is tagged (see :mod:`._tagged`): a ``type`` or ``status`` the SDK does not
know yet decodes to the ``Unknown…`` variant, which keeps the whole object in ``raw``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeAlias

import attrs

from ._tagged import tagged_union

__all__ = [
    "AccountIdentifier",
    "AccountIdentifierBban",
    "AccountIdentifierIban",
    "AccountIdentifierNrb",
    "AccountIdentifierScan",
    "ActionConsent",
    "ActionForm",
    "ActionProviderSelection",
    "ActionRedirect",
    "ActionRetry",
    "ActionSchemeSelection",
    "ActionUserAccountSelection",
    "ActionWait",
    "AuthorizationFlow",
    "AuthorizationFlowActions",
    "AuthorizationFlowAuthorizing",
    "AuthorizationFlowFailed",
    "AuthorizationFlowResult",
    "DisplayText",
    "FlowProvider",
    "FlowScheme",
    "Money",
    "NextAction",
    "PaymentSource",
    "PaymentUserRef",
    "UnknownAccountIdentifier",
    "UnknownAuthorizationFlowResult",
    "UnknownNextAction",
    "UserAccount",
]


@attrs.frozen(kw_only=True)
class Money:
    """An amount in minor units (pence, cents) and its ISO 4217 currency."""

    amount_in_minor: int
    currency: str


# -- account identifiers ----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AccountIdentifierScan:
    """A UK sort code (6 digits) and account number (8 digits)."""

    type: Literal["sort_code_account_number"] = "sort_code_account_number"
    sort_code: str
    account_number: str


@attrs.frozen(kw_only=True)
class AccountIdentifierIban:
    """An IBAN."""

    type: Literal["iban"] = "iban"
    iban: str


@attrs.frozen(kw_only=True)
class AccountIdentifierBban:
    """A BBAN (basic bank account number)."""

    type: Literal["bban"] = "bban"
    bban: str


@attrs.frozen(kw_only=True)
class AccountIdentifierNrb:
    """A Polish NRB."""

    type: Literal["nrb"] = "nrb"
    nrb: str


@attrs.frozen(kw_only=True)
class UnknownAccountIdentifier:
    """An account identifier of a ``type`` this SDK version does not know (``raw`` has it)."""

    type: str
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: Any account identifier, told apart by ``type``.
AccountIdentifier: TypeAlias = (
    AccountIdentifierScan
    | AccountIdentifierIban
    | AccountIdentifierBban
    | AccountIdentifierNrb
    | UnknownAccountIdentifier
)
tagged_union(
    AccountIdentifier,
    "type",
    {
        "sort_code_account_number": AccountIdentifierScan,
        "iban": AccountIdentifierIban,
        "bban": AccountIdentifierBban,
        "nrb": AccountIdentifierNrb,
    },
    UnknownAccountIdentifier,
)


@attrs.frozen(kw_only=True)
class PaymentSource:
    """The account the money came from (``id`` is set once the payment is ``settled``,
    and can be reused as a payout destination)."""

    account_holder_name: str | None = None
    account_identifiers: tuple[AccountIdentifier, ...] = ()
    id: str | None = None


@attrs.frozen(kw_only=True)
class PaymentUserRef:
    """The user a payment belongs to (reuse ``id`` to link later payments)."""

    id: str


# -- authorization flow: next actions ---------------------------------------------------


@attrs.frozen(kw_only=True)
class DisplayText:
    """A text to show the user, with its localisation ``key``."""

    default: str
    key: str | None = None


@attrs.frozen(kw_only=True)
class FlowProvider:
    """A provider offered in a ``provider_selection`` action (or on a saved account)."""

    id: str | None = None
    display_name: str | None = None
    icon_uri: str | None = None
    logo_uri: str | None = None
    bg_color: str | None = None
    country_code: str | None = None
    search_aliases: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class FlowScheme:
    """A payment scheme offered in a ``scheme_selection`` action."""

    id: str
    recommended: bool = False
    fee: Money | None = None


@attrs.frozen(kw_only=True)
class UserAccount:
    """A saved account offered in a ``user_account_selection`` action."""

    id: str
    provider: FlowProvider
    masked_account_identifier: str
    last_used_at: datetime


@attrs.frozen(kw_only=True)
class ActionProviderSelection:
    """Show a bank picker with ``providers``; submit the choice with
    ``submit_provider_selection``."""

    type: Literal["provider_selection"] = "provider_selection"
    providers: tuple[FlowProvider, ...] = ()


@attrs.frozen(kw_only=True)
class ActionSchemeSelection:
    """Let the user pick one of ``schemes``; submit with ``submit_scheme_selection``."""

    type: Literal["scheme_selection"] = "scheme_selection"
    schemes: tuple[FlowScheme, ...] = ()


@attrs.frozen(kw_only=True)
class ActionRedirect:
    """Send the user to ``uri`` (their bank, or a hosted page)."""

    type: Literal["redirect"] = "redirect"
    uri: str


@attrs.frozen(kw_only=True)
class ActionWait:
    """Nothing to do but wait (poll the payment, or wait for a webhook)."""

    type: Literal["wait"] = "wait"
    display_message: DisplayText | None = None


@attrs.frozen(kw_only=True)
class ActionForm:
    """Ask the user for ``inputs`` (each a JSON object: ``id``, ``type``, ``display_text``…);
    submit the answers with ``submit_form``."""

    type: Literal["form"] = "form"
    inputs: tuple[dict[str, Any], ...] = ()


@attrs.frozen(kw_only=True)
class ActionConsent:
    """Collect the user's consent (``requirements``); submit with ``submit_consent``."""

    type: Literal["consent"] = "consent"
    requirements: dict[str, Any] = attrs.field(factory=dict)
    subsequent_action_hint: str | None = None


@attrs.frozen(kw_only=True)
class ActionUserAccountSelection:
    """Offer the user's saved accounts; submit with ``submit_user_account_selection``."""

    type: Literal["user_account_selection"] = "user_account_selection"
    user_accounts: tuple[UserAccount, ...] = ()


@attrs.frozen(kw_only=True)
class ActionRetry:
    """The attempt failed and may be retried (``retry_options``, e.g. ``Restart``)."""

    type: Literal["retry"] = "retry"
    retry_options: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class UnknownNextAction:
    """A next action of a ``type`` this SDK version does not know (``raw`` has it)."""

    type: str
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: What the authorization flow needs next, told apart by ``type``.
NextAction: TypeAlias = (
    ActionProviderSelection
    | ActionSchemeSelection
    | ActionRedirect
    | ActionWait
    | ActionForm
    | ActionConsent
    | ActionUserAccountSelection
    | ActionRetry
    | UnknownNextAction
)
tagged_union(
    NextAction,
    "type",
    {
        "provider_selection": ActionProviderSelection,
        "scheme_selection": ActionSchemeSelection,
        "redirect": ActionRedirect,
        "wait": ActionWait,
        "form": ActionForm,
        "consent": ActionConsent,
        "user_account_selection": ActionUserAccountSelection,
        "retry": ActionRetry,
    },
    UnknownNextAction,
)


@attrs.frozen(kw_only=True)
class AuthorizationFlowActions:
    """``next`` is the action to take; ``adjacent`` (e.g. ``consent``) may be submitted
    together with it."""

    next: NextAction
    adjacent: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class AuthorizationFlow:
    """A payment's authorization flow: the ``actions`` while authorizing, and the frozen
    ``configuration`` (the capabilities declared when the flow started)."""

    actions: AuthorizationFlowActions | None = None
    configuration: dict[str, Any] | None = None


# -- authorization flow: results of start / submit --------------------------------------


@attrs.frozen(kw_only=True)
class AuthorizationFlowAuthorizing:
    """The flow goes on: ``authorization_flow.actions.next`` says what to do."""

    status: Literal["authorizing"] = "authorizing"
    authorization_flow: AuthorizationFlow


@attrs.frozen(kw_only=True)
class AuthorizationFlowFailed:
    """The flow ended in failure (``failure_reason`` is an open string)."""

    status: Literal["failed"] = "failed"
    failure_stage: str
    failure_reason: str


@attrs.frozen(kw_only=True)
class UnknownAuthorizationFlowResult:
    """A flow ``status`` this SDK version does not know (``raw`` has the object)."""

    status: str
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: What starting the flow or submitting an action returns, told apart by ``status``.
AuthorizationFlowResult: TypeAlias = (
    AuthorizationFlowAuthorizing | AuthorizationFlowFailed | UnknownAuthorizationFlowResult
)
tagged_union(
    AuthorizationFlowResult,
    "status",
    {"authorizing": AuthorizationFlowAuthorizing, "failed": AuthorizationFlowFailed},
    UnknownAuthorizationFlowResult,
)
