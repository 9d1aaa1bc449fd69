"""Data API v3 (UK): connections, connected accounts and asynchronous transaction requests.

TrueLayer publishes no OpenAPI document for Data v3, only docs pages (truelayer-api-v3.md
§6). Shapes marked **inferred** below come from third-party code, not from TrueLayer; every
model keeps the object it was built from in ``raw`` (unknown fields included), and enum-like
fields are plain strings, so a value the SDK does not know is kept as it came.

Request options (what ``tl.data_v3.create_connection`` takes) are here too: who selects the
provider (:class:`PreselectedProvider`, :class:`UserSelectedProvider`), where the journey
runs (:class:`HostedPage`, :class:`AuthorizationFlow`) and a consent you captured
yourself (:class:`PrecapturedConsent`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

__all__ = [
    "DATA_V3_SCOPES",
    "AuthorizationFlow",
    "ConnectedAccount",
    "ConnectedAccountIdentifier",
    "CreatedDataConnection",
    "DataConnection",
    "DataTransaction",
    "DataTransactionsRequest",
    "DataTransactionsResult",
    "HostedPage",
    "PrecapturedConsent",
    "PreselectedProvider",
    "UserSelectedProvider",
]

#: The scopes a Data v3 connection may ask for (§6.2).
DATA_V3_SCOPES = ("info", "accounts", "balance", "transactions")


# -- request options ----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PreselectedProvider:
    """Your UI chose the bank: ``provider_selection: {type: preselected, provider_id}``."""

    provider_id: str

    def to_wire(self) -> dict[str, Any]:
        """The ``provider_selection`` object."""
        return {"type": "preselected", "provider_id": self.provider_id}


@attrs.frozen(kw_only=True)
class UserSelectedProvider:
    """TrueLayer's page lets the user choose the bank: ``provider_selection: {type:
    user_selected, filter?}`` (``filter`` as in Payments v3, e.g. ``{"countries": ["GB"]}``).
    """

    filter: Mapping[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        """The ``provider_selection`` object."""
        wire: dict[str, Any] = {"type": "user_selected"}
        if self.filter is not None:
            wire["filter"] = dict(self.filter)
        return wire


@attrs.frozen(kw_only=True)
class HostedPage:
    """TrueLayer hosts the journey and sends the user back to ``return_uri``:
    ``hosted_page: {return_uri}`` (**inferred** shape, as on Payments v3)."""

    return_uri: str

    def to_wire(self) -> dict[str, Any]:
        """The ``hosted_page`` object."""
        return {"return_uri": self.return_uri}


@attrs.frozen(kw_only=True)
class AuthorizationFlow:
    """Your own UI runs the journey and the user goes straight to the bank, then back to
    ``return_uri``: ``authorization_flow: {redirect: {return_uri}}`` (**inferred** shape,
    as Payments v3's ``redirect`` capability)."""

    return_uri: str

    def to_wire(self) -> dict[str, Any]:
        """The ``authorization_flow`` object."""
        return {"redirect": {"return_uri": self.return_uri}}


@attrs.frozen(kw_only=True)
class PrecapturedConsent:
    """Your UI showed the consent screen at ``captured_at`` (timezone-aware):
    ``user_consent: {type: precaptured, captured_at}`` (**inferred**, as Payments v3)."""

    captured_at: datetime

    def to_wire(self) -> dict[str, Any]:
        """The ``user_consent`` object."""
        return {"type": "precaptured", "captured_at": self.captured_at.isoformat()}


# -- responses ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _Uri:
    uri: str | None = None


@attrs.frozen(kw_only=True)
class _Next:
    type: str | None = None
    uri: str | None = None


@attrs.frozen(kw_only=True)
class _Actions:
    next: _Next | None = None


@attrs.frozen(kw_only=True)
class _Flow:
    actions: _Actions | None = None


@attrs.frozen(kw_only=True)
class CreatedDataConnection:
    """The answer to ``POST /v3/data-connections`` (**inferred**: TrueLayer does not
    document it; third-party code shows ``201 {id, status, user?, hosted_page: {uri}}``).

    Attributes:
        id: the connection id, usable as ``Connection-Id`` once the user has finished.
        status: e.g. ``authorization_required`` (**inferred**; kept as sent).
        link: where to send the user: the hosted page's ``uri`` or, with
            :class:`AuthorizationFlow`, the ``redirect`` action's ``uri``.
        raw: the whole response object.
    """

    id: str
    status: str | None = None
    hosted_page: _Uri | None = attrs.field(default=None, repr=False)
    authorization_flow: _Flow | None = attrs.field(default=None, repr=False)
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def link(self) -> str | None:
        """The hosted page's URI, or the authorization flow's redirect URI."""
        if self.hosted_page is not None and self.hosted_page.uri:
            return self.hosted_page.uri
        flow = self.authorization_flow
        if flow is not None and flow.actions is not None and flow.actions.next is not None:
            return flow.actions.next.uri
        return None


@attrs.frozen(kw_only=True)
class DataConnection:
    """A connection as it is now (``GET /v3/data-connections/{id}``: **inferred**, seen
    only in third-party code).

    Attributes:
        id: the connection id.
        status: e.g. ``authorization_required`` or ``authorized`` (**inferred**; kept as
            sent).
        raw: the whole object.
    """

    id: str
    status: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class ConnectedAccountIdentifier:
    """One of an account's identifiers: ``type`` ``sort_code_account_number`` (with
    ``sort_code`` and ``account_number``) or ``iban`` (``iban``); other types are kept in
    ``raw``. The exact field names follow Payments v3 (**inferred**)."""

    type: str
    sort_code: str | None = None
    account_number: str | None = None
    iban: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class ConnectedAccount:
    """An account the user shared (``GET /v3/connected-accounts``, §6.3).

    Attributes:
        id: the account id for the transactions endpoints.
        account_type: ``current`` or ``savings``.
        customer_segment: ``retail`` or ``business``.
        currency: ``GBP`` or ``EUR``.
        account_identifiers: sort code + account number and/or IBAN.
        bic: the bank's BIC, when known.
        account_holder_names: several for joint accounts (strings: **inferred**).
        raw: the whole object, unknown fields included.
    """

    id: str
    account_type: str | None = None
    customer_segment: str | None = None
    currency: str | None = None
    account_identifiers: tuple[ConnectedAccountIdentifier, ...] = ()
    bic: str | None = None
    account_holder_names: tuple[str, ...] = ()
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class DataTransaction:
    """One transaction of a completed request (§6.4).

    Attributes:
        transaction_id: TrueLayer's id.
        timestamp: the booking time (pages are ordered by it, newest first).
        description: the bank's description.
        currency: ``GBP`` or ``EUR``.
        amount_in_minor: the amount in minor units. Its sign convention (negative for
            money out) is **inferred**; TrueLayer does not document it.
        merchant_name, category: mentioned by the docs, shape **inferred**.
        raw: the whole object, unknown fields included.
    """

    transaction_id: str
    timestamp: datetime
    amount_in_minor: int
    currency: str
    description: str | None = None
    merchant_name: str | None = None
    category: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class DataTransactionsResult:
    """A completed request's ``result``: one page of transactions and the cursor of the
    next (``None`` or an empty ``items`` list: no more)."""

    items: tuple[DataTransaction, ...] = ()
    next_cursor: str | None = None


@attrs.frozen(kw_only=True)
class DataTransactionsRequest:
    """An asynchronous transactions request
    (``GET /v3/connected-accounts/{account_id}/transactions/requests/{id}``).

    Attributes:
        id: the request id.
        status: ``pending``, ``completed`` or ``failed`` (other values kept as strings).
        result: the page, once ``completed``.
        failure_reason: why it ``failed`` (values **inferred**, e.g. ``provider_error``).
        raw: the whole object.
    """

    id: str
    status: str
    result: DataTransactionsResult | None = None
    failure_reason: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
