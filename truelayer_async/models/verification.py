"""``POST /verification/v1/verify`` (Verification API v1, user-token name check)."""

from __future__ import annotations

import attrs

__all__ = ["AccountHolder", "VerificationReport", "VerificationResult"]


@attrs.frozen(kw_only=True)
class AccountHolder:
    """One holder of a verified account, and how well the supplied name matched it."""

    name: str | None = None
    verified: bool | None = None
    match_score: int | None = None


@attrs.frozen(kw_only=True)
class VerificationReport:
    """The verification outcome for one of the user's accounts.

    Attributes:
        verifiable: whether this account could be checked at all.
        failure_code: why not, when ``verifiable`` is false (e.g. ``CREDIT_CARD``).
        failure_description: human-readable reason.
        currency: ISO 4217 code.
        provider_id: the bank.
        account_type: as returned by the bank, e.g. ``CURRENT``, ``CREDIT_CARD``.
        account_holders: each holder's name and match.
        display_name: the account's name.
        iban: the account's IBAN.
        swift_bic: the account's BIC.
        account_number: the account number.
        sort_code: the UK sort code.
    """

    verifiable: bool
    failure_code: str | None = None
    failure_description: str | None = None
    currency: str | None = None
    provider_id: str | None = None
    account_type: str | None = None
    account_holders: tuple[AccountHolder, ...] | None = None
    display_name: str | None = None
    iban: str | None = None
    swift_bic: str | None = None
    account_number: str | None = None
    sort_code: str | None = None


@attrs.frozen(kw_only=True)
class VerificationResult:
    """The 200 answer of ``POST /verification/v1/verify`` (not enveloped).

    Attributes:
        verified: whether the supplied name matched an account holder.
        account_holder_name: the best-matching holder's name.
        match_score: 0-100.
        failure_code: set when no account could be verified.
        failure_description: human-readable reason.
        report: one entry per account examined.
    """

    verified: bool
    account_holder_name: str | None = None
    match_score: int | None = None
    failure_code: str | None = None
    failure_description: str | None = None
    report: tuple[VerificationReport, ...] | None = None
