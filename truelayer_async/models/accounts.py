"""``GET /data/v1/accounts[/{id}]`` and ``GET /data/v1/accounts/{id}/balance``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs

from .common import ProviderInfo
from .enums import AccountType

__all__ = ["Account", "AccountBalance", "AccountNumber"]


@attrs.frozen(kw_only=True)
class AccountNumber:
    """Identifiers of an account; which ones are present depends on the country.

    Attributes:
        iban: ISO 13616 IBAN.
        number: account number (UK, AU).
        sort_code: UK sort code, ``12-34-56`` style.
        swift_bic: BIC, or ``NOT_SUPPORTED_BY_GEO`` / ``NOT_SUPPORTED_BY_PROVIDER``.
        routing_number: US routing transit number.
        bsb: AU Bank State Branch number.
    """

    iban: str | None = None
    number: str | None = None
    sort_code: str | None = None
    swift_bic: str | None = None
    routing_number: str | None = None
    bsb: str | None = None


@attrs.frozen(kw_only=True)
class Account:
    """A bank account (``GET /accounts``, ``GET /accounts/{account_id}``).

    Attributes:
        account_id: opaque id used in ``/accounts/{account_id}/...`` paths. Not marked
            required by the OpenAPI document, but an account without it cannot be used,
            so it is required here.
        update_timestamp: when the data was last refreshed from the provider.
        account_type: an ``AccountType``, or an unknown value as a plain string.
        display_name: the account's name as shown by the bank.
        currency: ISO 4217 code (an open string, not an enum).
        account_number: the account's identifiers.
        provider: the bank.
        description: legacy free-text description.
    """

    account_id: str
    update_timestamp: datetime
    display_name: str
    currency: str
    account_number: AccountNumber
    provider: ProviderInfo
    account_type: AccountType | str | None = None
    description: str | None = None


@attrs.frozen(kw_only=True)
class AccountBalance:
    """Balance of a bank account (``GET /accounts/{account_id}/balance``).

    Money fields are ``Decimal`` values equal to the JSON literal.

    Attributes:
        currency: ISO 4217 code.
        current: booked funds, excluding pending transactions.
        available: funds available, including pending transactions and any overdraft.
        overdraft: the arranged overdraft limit (transaction accounts).
        update_timestamp: when the data was last refreshed from the provider.
    """

    currency: str
    current: Decimal
    available: Decimal | None = None
    overdraft: Decimal | None = None
    update_timestamp: datetime | None = None
