"""The sandbox's mock users (truelayer-api.md §4.7) and what each one does.

=================================  ===========  ===============================================
username                           password     behaviour
=================================  ===========  ===============================================
``john``, ``john1`` … ``john100``  ``doe``,     success; every account shares one IBAN;
                                   ``doe1`` …   extend → ``authentication_needed``
same                               ``iban``,    success; each account gets its own valid IBAN
                                   ``iban1`` …
same                               ``eternal``  success; extend → ``no_action_needed``
``error.<code>``                   ``error``    login works; every Data call except ``/me``
                                                (and verification) fails with ``<code>``
=================================  ===========  ===============================================

``<code>`` is one of ``account_permanently_locked`` / ``account_temporarily_locked`` (403),
``internal_error`` (500), ``provider_error`` (503), ``user_input_required`` (403),
``wrong_credentials`` (401). The number after ``doe``/``iban`` need not match the one after
``john``. ``johnN`` with ``N % 3 == 2`` (``john2``, ``john5``, …) has no cards: ``/cards``
answers 501 ``endpoint_not_supported``.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["ERROR_STATUS", "Persona", "login"]

#: HTTP status for each error persona's code.
ERROR_STATUS: dict[str, int] = {
    "account_permanently_locked": 403,
    "account_temporarily_locked": 403,
    "internal_error": 500,
    "provider_error": 503,
    "user_input_required": 403,
    "wrong_credentials": 401,
}

_ERROR_DESCRIPTION = {
    "account_permanently_locked": "The account is permanently locked at the provider.",
    "account_temporarily_locked": "The account is temporarily locked at the provider.",
    "internal_error": "The provider had an internal error.",
    "provider_error": "The provider service is unavailable.",
    "user_input_required": "The provider needs the user to take an action first.",
    "wrong_credentials": "The credentials held for this connection were rejected by the provider.",
}

_USER = re.compile(r"john([1-9][0-9]?|100)?")
_PASSWORD = re.compile(r"(doe|iban)([1-9][0-9]?|100)?|eternal")


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
    def distinct_ibans(self) -> bool:
        """Whether every account gets its own IBAN (``iban`` passwords)."""
        return self.password.startswith("iban")

    @property
    def has_cards(self) -> bool:
        """Whether ``/cards`` is supported."""
        return self.index % 3 != 2

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
        return _ERROR_DESCRIPTION.get(self.error or "", "The provider failed.")


def login(username: str, password: str) -> Persona | None:
    """The persona for these credentials, or ``None`` when the mock bank refuses them."""
    if username.startswith("error."):
        code = username[len("error.") :]
        if code in ERROR_STATUS and password == "error":
            return Persona(username, password, code)
        return None
    if _USER.fullmatch(username) and _PASSWORD.fullmatch(password):
        return Persona(username, password)
    return None
