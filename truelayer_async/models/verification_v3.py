"""Verification v3 (truelayer-api-v3.md §7.1–§7.3): account holder verification (AHV),
French account-details checks and bank lookup.

An AHV request is a tagged union on ``status`` (``pending`` / ``completed`` / ``failed``);
a completed one carries a ``match_result``, a tagged union on ``type``. Values this SDK
version does not know decode to the ``Unknown…`` variants with the whole object in
``raw``. The French and bank-lookup answers keep enum-like fields as plain strings so a
new value never breaks decoding.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import attrs

from ._tagged import tagged_union

__all__ = [
    "AccountHolderVerification",
    "BankLookupResult",
    "CreatedAccountHolderVerification",
    "FrAccountDetails",
    "FrMatch",
    "FrNameMatch",
    "HolderMatch",
    "HolderMatchNotPossible",
    "HolderMatchResult",
    "HolderNoMatch",
    "HolderPartialMatch",
    "UnknownHolderMatch",
    "UnknownVerification",
    "VerificationCompleted",
    "VerificationFailed",
    "VerificationPending",
]


# -- match results --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class HolderMatch:
    """The name matches the account holder's name."""

    type: Literal["match"] = "match"


@attrs.frozen(kw_only=True)
class HolderPartialMatch:
    """The name is close: ``account_holder_name`` is the name the bank holds."""

    type: Literal["partial_match"] = "partial_match"
    account_holder_name: str


@attrs.frozen(kw_only=True)
class HolderNoMatch:
    """The name does not match the account holder's name."""

    type: Literal["no_match"] = "no_match"


@attrs.frozen(kw_only=True)
class HolderMatchNotPossible:
    """The bank could not check the name (``reason``, e.g. ``Bank unable to match``)."""

    type: Literal["match_not_possible"] = "match_not_possible"
    reason: str


@attrs.frozen(kw_only=True)
class UnknownHolderMatch:
    """A match ``type`` this SDK version does not know (``raw`` has it all)."""

    type: str
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: The outcome of a completed AHV request, told apart by ``type``.
HolderMatchResult: TypeAlias = (
    HolderMatch | HolderPartialMatch | HolderNoMatch | HolderMatchNotPossible | UnknownHolderMatch
)
tagged_union(
    HolderMatchResult,
    "type",
    {
        "match": HolderMatch,
        "partial_match": HolderPartialMatch,
        "no_match": HolderNoMatch,
        "match_not_possible": HolderMatchNotPossible,
    },
    UnknownHolderMatch,
)


# -- the request ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CreatedAccountHolderVerification:
    """The 202 answer of ``POST /v3/account-holder-verifications/requests``."""

    id: str


@attrs.frozen(kw_only=True)
class VerificationPending:
    """The bank has not answered yet: poll again, or wait for the webhook."""

    id: str
    status: Literal["pending"] = "pending"


@attrs.frozen(kw_only=True)
class VerificationCompleted:
    """The bank answered: ``match_result`` says how the name compared."""

    id: str
    status: Literal["completed"] = "completed"
    match_result: HolderMatchResult


@attrs.frozen(kw_only=True)
class VerificationFailed:
    """The check could not be done (``failure_reason``, e.g. ``provider_error``)."""

    id: str
    status: Literal["failed"] = "failed"
    failure_reason: str


@attrs.frozen(kw_only=True)
class UnknownVerification:
    """An AHV ``status`` this SDK version does not know (``raw`` has it all)."""

    status: str
    id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: An account holder verification request, told apart by ``status``.
AccountHolderVerification: TypeAlias = (
    VerificationPending | VerificationCompleted | VerificationFailed | UnknownVerification
)
tagged_union(
    AccountHolderVerification,
    "status",
    {
        "pending": VerificationPending,
        "completed": VerificationCompleted,
        "failed": VerificationFailed,
    },
    UnknownVerification,
)


# -- France: verify account details ----------------------------------------------------


@attrs.frozen(kw_only=True)
class FrNameMatch:
    """``match`` (score 100), ``partial_match`` (88–99) or ``no_match`` (0–87)."""

    type: str
    match_score: int


@attrs.frozen(kw_only=True)
class FrMatch:
    """``match``, ``no_match`` or ``unknown``."""

    type: str


@attrs.frozen(kw_only=True)
class FrAccountDetails:
    """The 200 answer of ``POST /v3/verification/fr/verify-account-details``.

    Attributes:
        name_match: how the name compared, with a 0–100 score.
        account_type_match: whether the account is of the type given.
        account_status: ``active``, ``inactive``, ``opted_out_from_scheme`` or ``unknown``.
        date_of_birth_match: present when a date of birth was sent.
    """

    name_match: FrNameMatch
    account_type_match: FrMatch
    account_status: str
    date_of_birth_match: FrMatch | None = None


# -- bank lookup --------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BankLookupResult:
    """The bank behind an account identifier: its ``bic`` and full ``name``."""

    bic: str
    name: str
