"""The sandbox's mock users (truelayer-api.md §4.7) and what each one does.

=================================  ===========  ===============================================
username                           password     behaviour
=================================  ===========  ===============================================
``john``, ``john1`` … ``john100``  ``doe``,     success; every account shares one IBAN;
                                   ``doe1`` …   extend → ``authentication_needed``
same                               ``iban``,    success; each account gets its own valid IBAN
                                   ``iban1`` …
same                               ``eternal``  success; extend → ``no_action_needed``
same                               ``reconfirm``  success; extend →
                                                ``reconfirmation_of_consent_needed`` (the
                                                dialog asks for consent only, no login)
same                               ``cards``    a card-only bank (like Amex or Barclaycard):
                                                a credit card, and every ``/accounts…``
                                                endpoint answers 501 ``endpoint_not_supported``
``error.<code>``                   ``error``    login works; every Data call except ``/me``
                                                (and verification) fails with ``<code>``
=================================  ===========  ===============================================

``<code>`` is one of ``account_permanently_locked`` / ``account_temporarily_locked`` (403),
``internal_error`` (500), ``provider_error`` (503), ``user_input_required`` (403),
``wrong_credentials`` (401). The number after ``doe``/``iban`` need not match the one after
``john``. ``johnN`` with ``N % 3 == 2`` (``john2``, ``john5``, …) has no cards: ``/cards``
answers 501 ``endpoint_not_supported``.

The public lists are :data:`PERSONAS` and :data:`ERROR_PERSONAS`
(``truelayer_async.testing``). An unknown ``error.<code>`` is refused with the list of
valid codes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

import attrs

__all__ = [
    "ERROR_PERSONAS",
    "ERROR_STATUS",
    "PERSONAS",
    "ErrorPersona",
    "MockUser",
    "Persona",
    "default_password",
    "login",
    "refusal",
]


@attrs.frozen
class MockUser:
    """A username/password pair the mock bank accepts, and what the connection does."""

    username: str
    password: str
    behaviour: str


@attrs.frozen
class ErrorPersona:
    """An ``error.<code>`` persona: login works, then Data calls fail with ``error``."""

    username: str
    error: str
    status: int
    description: str
    password: str = "error"


def _error_persona(code: str, status: int, description: str) -> tuple[str, ErrorPersona]:
    return f"error.{code}", ErrorPersona(f"error.{code}", code, status, description)


#: Every ``error.<code>`` persona by username (password ``error``): after a normal login,
#: every Data call except ``/me`` answers ``status`` with TrueLayer error code ``error``.
ERROR_PERSONAS: Mapping[str, ErrorPersona] = MappingProxyType(
    dict(
        [
            _error_persona(
                "account_permanently_locked",
                403,
                "The account is permanently locked at the provider.",
            ),
            _error_persona(
                "account_temporarily_locked",
                403,
                "The account is temporarily locked at the provider.",
            ),
            _error_persona("internal_error", 500, "The provider had an internal error."),
            _error_persona("provider_error", 503, "The provider service is unavailable."),
            _error_persona(
                "user_input_required", 403, "The provider needs the user to take an action first."
            ),
            _error_persona(
                "wrong_credentials",
                401,
                "The credentials held for this connection were rejected by the provider.",
            ),
        ]
    )
)

#: HTTP status for each error persona's code.
ERROR_STATUS: Mapping[str, int] = MappingProxyType(
    {p.error: p.status for p in ERROR_PERSONAS.values()}
)

#: The mock bank's users, one of each kind (``john`` may be ``john1`` … ``john100``, and
#: ``doe``/``iban`` may carry a number too), then the error personas.
PERSONAS: tuple[MockUser, ...] = (
    MockUser(
        "john",
        "doe",
        "a current and a savings account sharing one IBAN, and a credit card; "
        "extend answers authentication_needed",
    ),
    MockUser("john", "iban", "like john/doe, but each account has its own valid IBAN"),
    MockUser("john", "eternal", "like john/doe; extend answers no_action_needed"),
    MockUser(
        "john",
        "reconfirm",
        "like john/doe; extend answers reconfirmation_of_consent_needed (the link asks "
        "for consent again, no bank login)",
    ),
    MockUser(
        "john2",
        "doe",
        "no cards: /cards answers 501 endpoint_not_supported (any johnN with N % 3 == 2)",
    ),
    MockUser(
        "john",
        "cards",
        "a card-only bank (like Amex): a credit card, and /accounts answers 501 "
        "endpoint_not_supported",
    ),
    *(
        MockUser(p.username, p.password, f"Data calls fail with {p.status} {p.error}")
        for p in ERROR_PERSONAS.values()
    ),
)

_USER = re.compile(r"john([1-9][0-9]?|100)?")
_PASSWORD = re.compile(r"(doe|iban)([1-9][0-9]?|100)?|eternal|reconfirm|cards")


@attrs.frozen
class Persona:
    """A mock user who logged in."""

    username: str
    password: str
    #: The error every Data call fails with, for ``error.*`` personas.
    error: str | None = None

    @property
    def index(self) -> int:
        """``N`` in ``johnN`` (0 for ``john`` and for error personas)."""
        digits = self.username[4:] if self.username.startswith("john") else ""
        return int(digits) if digits.isdigit() else 0

    @property
    def eternal(self) -> bool:
        """Whether ``/connections/extend`` answers ``no_action_needed``."""
        return self.password == "eternal"

    @property
    def reconfirms(self) -> bool:
        """Whether ``/connections/extend`` answers ``reconfirmation_of_consent_needed``."""
        return self.password == "reconfirm"

    @property
    def distinct_ibans(self) -> bool:
        """Whether every account gets its own IBAN (``iban`` passwords)."""
        return self.password.startswith("iban")

    @property
    def card_only(self) -> bool:
        """Whether the bank only holds cards (``/accounts`` answers 501)."""
        return self.password == "cards"

    @property
    def has_cards(self) -> bool:
        """Whether ``/cards`` is supported."""
        return self.card_only or self.index % 3 != 2

    @property
    def holder_name(self) -> str:
        """The account holder's name, as the bank reports it."""
        return "John Doe"

    @property
    def error_status(self) -> int:
        """HTTP status of this persona's error (only meaningful when ``error`` is set)."""
        return ERROR_STATUS.get(self.error or "", 500)

    @property
    def error_description(self) -> str:
        found = ERROR_PERSONAS.get(self.username)
        return found.description if found is not None else "The provider failed."


def default_password(username: str) -> str:
    """``error`` for ``error.<code>`` personas, else ``doe``."""
    return "error" if username.startswith("error.") else "doe"


def login(username: str, password: str) -> Persona | None:
    """The persona for these credentials, or ``None`` when the mock bank refuses them."""
    if username.startswith("error."):
        found = ERROR_PERSONAS.get(username)
        if found is not None and password == found.password:
            return Persona(username, password, found.error)
        return None
    if _USER.fullmatch(username) and _PASSWORD.fullmatch(password):
        return Persona(username, password)
    return None


def refusal(username: str, password: str) -> str:
    """Why the mock bank refuses these credentials (call it when ``login`` gave ``None``)."""
    if username.startswith("error."):
        if username not in ERROR_PERSONAS:
            codes = ", ".join(p.error for p in ERROR_PERSONAS.values())
            return f"Unknown error persona {username!r}: error.<code> takes one of {codes}."
        return "Error personas log in with the password 'error'."
    return (
        "Wrong username or password (mock users: john … john100 with doe, iban, eternal, "
        "reconfirm or cards; error.<code> with error)."
    )
