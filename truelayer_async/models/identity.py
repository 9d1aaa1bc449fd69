"""``GET /data/v1/me`` (the connection) and ``GET /data/v1/info`` (the account holder)."""

from __future__ import annotations

from datetime import date, datetime

import attrs

from .common import ProviderInfo
from .enums import ConsentStatus

__all__ = ["Info", "InfoAddress", "Me"]


@attrs.frozen(kw_only=True)
class Me:
    """Metadata about the connection behind an access token (``GET /me``).

    Only ``client_id`` and ``credentials_id`` are required: the older minimal form of this
    resource carried just those and a top-level ``provider_id``.

    Attributes:
        client_id: your client id.
        credentials_id: the connection's id, the same as the ``X-Credentials-Id`` header.
        consent_status: ``ConsentStatus.AUTHORISED``, or another value as a plain string.
        consent_status_updated_at: when ``consent_status`` last changed.
        consent_created_at: when the user gave consent.
        consent_expires_at: when the consent lapses (typically 90 days after creation).
        provider: the bank.
        scopes: the scopes granted.
        privacy_policy: the privacy-policy version the user accepted, e.g. ``Feb2019``.
        provider_id: legacy top-level provider id (older form of the resource).
    """

    client_id: str
    credentials_id: str
    consent_status: ConsentStatus | str | None = None
    consent_status_updated_at: datetime | None = None
    consent_created_at: datetime | None = None
    consent_expires_at: datetime | None = None
    provider: ProviderInfo | None = None
    scopes: tuple[str, ...] | None = None
    privacy_policy: str | None = None
    provider_id: str | None = None


@attrs.frozen(kw_only=True)
class InfoAddress:
    """One postal address of the account holder (legacy ``/info`` field)."""

    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None


@attrs.frozen(kw_only=True)
class Info:
    """Identity of the account holder as the bank holds it (``GET /info``).

    ``full_name`` is the only field most providers fill in; everything else is optional.

    Attributes:
        full_name: the account holder's name.
        update_timestamp: when the data was last refreshed from the provider.
        emails: e-mail addresses (very rarely populated).
        phones: phone numbers (very rarely populated).
        branch_id: the bank branch (e.g. a French regional bank).
        date_of_birth: legacy field. The wire value may be a date (``1984-07-03``) or a
            midnight timestamp (``1984-07-03T00:00:00``); it is always the calendar date
            as written, with no time-zone conversion.
        addresses: legacy field: postal addresses.
    """

    full_name: str
    update_timestamp: datetime | None = None
    emails: tuple[str, ...] | None = None
    phones: tuple[str, ...] | None = None
    branch_id: str | None = None
    date_of_birth: date | None = None
    addresses: tuple[InfoAddress, ...] | None = None
