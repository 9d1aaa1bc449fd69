"""The emulator's provider catalogue and the rules for ``providers`` selectors.

Every provider logs in with the mock personas (see ``_personas``), so any of them can be
picked in the dialog; ``mock`` is the one TrueLayer's sandbox offers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import attrs

__all__ = ["DEFAULT_SELECTORS", "PROVIDERS", "Provider", "find_provider", "offered_providers"]

#: What the dialog offers when the auth link has no ``providers`` parameter (TrueLayer's
#: documented default; note that the Mock bank is *not* included).
DEFAULT_SELECTORS = ("uk-oauth-all", "uk-ob-all")

_LOGO_BASE = "https://truelayer-provider-assets.s3.amazonaws.com/global/logos"
_ALL_DATA = (
    "info",
    "accounts",
    "balance",
    "cards",
    "transactions",
    "direct_debits",
    "standing_orders",
    "offline_access",
)


@attrs.frozen
class Provider:
    """One bank in the catalogue."""

    provider_id: str
    display_name: str
    country: str
    #: Selectors (besides the provider id itself) that include this provider.
    selectors: frozenset[str]
    scopes: tuple[str, ...]
    steps: tuple[dict[str, Any], ...] = ()

    @property
    def logo_url(self) -> str:
        return f"{_LOGO_BASE}/{self.provider_id}.svg"

    def supports(self, scopes: Iterable[str]) -> bool:
        """Whether every Data scope in ``scopes`` is offered (other scopes are ignored)."""
        return all(scope in self.scopes for scope in scopes if scope in _ALL_DATA)

    def covered_by(self, selectors: Collection[str]) -> bool:
        """Whether a ``providers`` list includes this provider."""
        return self.provider_id in selectors or not self.selectors.isdisjoint(selectors)

    def to_json(self, updated_at: str) -> dict[str, Any]:
        """The ``GET /api/providers`` item."""
        item: dict[str, Any] = {
            "provider_id": self.provider_id,
            "display_name": self.display_name,
            "country": self.country,
            "logo_url": self.logo_url,
            "scopes": list(self.scopes),
        }
        if self.steps:
            item["steps"] = [dict(step) for step in self.steps]
        item["availability"] = {"recommended_status": "healthy", "updated_at": updated_at}
        return item


# The schema's flat field shape (the spec's example nests it under "fields"; the schema wins).
_BRANCH_STEP: dict[str, Any] = {
    "type": "SingleChoiceField",
    "id": "branch-name",
    "display_name": "Branch Name",
    "help_text": "Please select a branch",
    "mandatory": True,
    "values": [
        {"value": "stet-credit-agricole-alpes-provence", "display_name": "Alpes Provence"},
        {"value": "stet-credit-agricole-aquitaine", "display_name": "Aquitaine"},
    ],
}

PROVIDERS: tuple[Provider, ...] = (
    Provider("mock", "Mock", "uk", frozenset({"uk-cs-mock", "uk-cs-all"}), _ALL_DATA),
    Provider(
        "ob-monzo",
        "Monzo",
        "uk",
        frozenset({"uk-ob-all"}),
        (
            "info",
            "accounts",
            "balance",
            "transactions",
            "direct_debits",
            "standing_orders",
            "offline_access",
        ),
    ),
    Provider(
        "ob-transferwise",
        "Wise",
        "uk",
        frozenset({"uk-ob-all"}),
        ("accounts", "balance", "transactions", "offline_access"),
    ),
    Provider("ob-lloyds-business", "Lloyds Business", "uk", frozenset({"uk-ob-all"}), _ALL_DATA),
    Provider(
        "oauth-monzo",
        "Monzo (legacy)",
        "uk",
        frozenset({"uk-oauth-all"}),
        ("info", "accounts", "balance", "transactions", "offline_access"),
    ),
    Provider(
        "ob-bank-of-ireland",
        "Bank of Ireland",
        "ie",
        frozenset({"ie-ob-all"}),
        ("info", "accounts", "balance", "transactions", "offline_access"),
    ),
    Provider(
        "stet-credit-agricole",
        "Crédit Agricole",
        "fr",
        frozenset({"fr-stet-all"}),
        ("info", "accounts", "balance", "transactions", "offline_access"),
        (_BRANCH_STEP,),
    ),
)

_BY_ID = {provider.provider_id: provider for provider in PROVIDERS}


def find_provider(provider_id: str) -> Provider | None:
    """The provider with this id, if the catalogue has it."""
    return _BY_ID.get(provider_id)


def offered_providers(
    selectors: Collection[str],
    *,
    scopes: Iterable[str],
    disabled: Collection[str] = (),
    country: str | None = None,
) -> list[Provider]:
    """Providers the dialog lists for these selectors, scopes, exclusions and country."""
    wanted = list(scopes)
    return [
        provider
        for provider in PROVIDERS
        if provider.covered_by(selectors)
        and provider.provider_id not in disabled
        and provider.supports(wanted)
        and (country is None or provider.country == country)
    ]
