"""``GET /data/v1/cards[/{id}]``, ``.../balance`` and ``.../transactions[/pending]``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import attrs

from .common import ProviderInfo
from .enums import TransactionType
from .transactions import _BaseTransaction

__all__ = ["Card", "CardBalance", "CardTransaction"]


@attrs.frozen(kw_only=True)
class Card:
    """A credit or charge card (``GET /cards``, ``GET /cards/{account_id}``).

    Attributes:
        account_id: the card's id, used in ``/cards/{account_id}/...`` paths (required
            here although the OpenAPI document lists no required fields).
        card_network: e.g. ``VISA``, ``MASTERCARD``, ``AMEX`` (open string).
        card_type: e.g. ``CREDIT``, ``CHARGE`` (open string).
        currency: ISO 4217 code.
        display_name: the card's name as shown by the bank.
        partial_card_number: the last four digits.
        name_on_card: the embossed name.
        valid_from: ``YYYY-MM`` as sent (kept as a string: it is not a full date).
        valid_to: ``YYYY-MM`` as sent.
        update_timestamp: when the data was last refreshed from the provider.
        provider: the bank.
    """

    account_id: str
    card_network: str | None = None
    card_type: str | None = None
    currency: str | None = None
    display_name: str | None = None
    partial_card_number: str | None = None
    name_on_card: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    update_timestamp: datetime | None = None
    provider: ProviderInfo | None = None


@attrs.frozen(kw_only=True)
class CardBalance:
    """Balance of a card (``GET /cards/{account_id}/balance``).

    Money fields are ``Decimal``. ``available`` is typed as a string in the OpenAPI
    document but sent as a number in its examples; both are accepted.

    Attributes:
        current: the current balance (required).
        available: remaining credit.
        currency: ISO 4217 code.
        credit_limit: the card's limit.
        last_statement_balance: balance on the last statement.
        last_statement_date: date of the last statement.
        payment_due: amount due by ``payment_due_date``.
        payment_due_date: when ``payment_due`` must be paid.
        update_timestamp: when the data was last refreshed from the provider.
    """

    current: Decimal
    available: Decimal | None = None
    currency: str | None = None
    credit_limit: Decimal | None = None
    last_statement_balance: Decimal | None = None
    last_statement_date: date | None = None
    payment_due: Decimal | None = None
    payment_due_date: date | None = None
    update_timestamp: datetime | None = None


@attrs.frozen(kw_only=True)
class CardTransaction(_BaseTransaction):
    """A booked or pending card transaction.

    Same fields as :class:`~truelayer_async.models.Transaction`. The sign of ``amount``
    is not consistent across providers for cards: use ``transaction_type`` for the
    direction. ``meta`` may also carry ``cardNumber`` (masked, camelCase on the wire)
    and ``location``.

    ``transaction_type`` is ``None`` when the provider did not send one (some card
    providers leave it out, although the OpenAPI document marks it required): one such
    item does not reject the whole list.
    """

    transaction_type: TransactionType | str | None = None
