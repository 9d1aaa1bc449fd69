"""Signup+ identity results (truelayer-api-v3.md §7.4): the user's name, date of birth,
address and the account they paid from, as their bank holds them.

Shapes follow TrueLayer's Signup+ OpenAPI examples; the data-only flow's response and the
Finnish step are **inferred** (§9 item 11). Every model keeps its whole object in ``raw``;
personal data (date of birth, address, account, national id) is left out of ``repr``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs

__all__ = ["FinnishAuthUri", "SignupPlusAccountDetails", "SignupPlusAddress", "SignupPlusIdentity"]


@attrs.frozen(kw_only=True)
class SignupPlusAddress:
    """The user's address (``zip`` is the postcode; ``country`` an ISO 3166-1 code)."""

    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class SignupPlusAccountDetails:
    """The account the user paid from (``sort_code`` with dashes, UK only)."""

    account_number: str | None = None
    sort_code: str | None = None
    iban: str | None = None
    provider_id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class SignupPlusIdentity:
    """What Signup+ returns about the user.

    Attributes:
        first_name, last_name, title: the user's name.
        date_of_birth: as the bank holds it.
        address: the user's address.
        account_details: the account used.
        national_identification_number, sex: Finland only.
        raw: the whole object, unknown fields included.
    """

    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    date_of_birth: date | None = attrs.field(default=None, repr=False)
    address: SignupPlusAddress | None = attrs.field(default=None, repr=False)
    account_details: SignupPlusAccountDetails | None = attrs.field(default=None, repr=False)
    national_identification_number: str | None = attrs.field(default=None, repr=False)
    sex: str | None = attrs.field(default=None, repr=False)
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class FinnishAuthUri:
    """``POST /signup-plus/authuri``'s answer: where the Finnish user authorises
    (``auth_uri``); the bank sends back an authorization reference (**inferred** name)."""

    auth_uri: str
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
