"""The emulator's static catalogue of payments providers (sandbox mock banks).

* ``mock-payments-gb-redirect`` (GB, GBP, Faster Payments): redirect flow.
* ``mock-payments-fi-redirect`` (FI, EUR, SEPA schemes): redirect flow; two schemes, so
  a client that declares ``scheme_selection`` is asked to pick one.
* ``mock-payments-es-branch-redirect`` (ES, EUR): inserts a ``form`` step (pick a
  branch, a ``select`` input) before the redirect.
* ``mock-payments-gb-beta-redirect`` (GB, GBP): ``public_beta`` release channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = ["PROVIDERS", "Provider", "find", "search"]

_UPDATED_AT = "2026-01-01T00:00:00Z"
_ICON = "https://truelayer-provider-assets.s3.amazonaws.com/global/icons/mock.svg"
_LOGO = "https://truelayer-provider-assets.s3.amazonaws.com/global/logos/mock.svg"


@attrs.frozen
class Provider:
    """One mock bank."""

    id: str
    display_name: str
    country_code: str
    currency: str
    schemes: tuple[str, ...]
    release_channel: str = "general_availability"
    #: Branches offered in a ``form`` step (none: no form step).
    branches: tuple[tuple[str, str], ...] = ()
    vrp: bool = False

    def flow_entry(self) -> dict[str, Any]:
        """The provider as listed in a ``provider_selection`` action."""
        return {
            "id": self.id,
            "display_name": self.display_name,
            "icon_uri": _ICON,
            "logo_uri": _LOGO,
            "bg_color": "#1A1A2E",
            "schemes": [{"id": scheme} for scheme in self.schemes],
            "availability": {"recommended_status": "healthy", "updated_at": _UPDATED_AT},
            "country_code": self.country_code,
            "search_aliases": [self.display_name.lower()],
        }

    def resource(self, *, search: bool = False) -> dict[str, Any]:
        """The provider as ``GET /v3/payments-providers/{id}`` returns it (``search``: as
        search does, with each scheme's ``requirements``)."""
        schemes: list[dict[str, Any]] = [{"id": scheme} for scheme in self.schemes]
        if search:
            identifiers = ["sort_code_account_number"] if self.currency == "GBP" else ["iban"]
            requirement = {"currencies": [self.currency], "account_identifier_types": identifiers}
            schemes = [{**scheme, "requirements": [requirement]} for scheme in schemes]
        capabilities: dict[str, Any] = {
            "payments": {
                "bank_transfer": {
                    "release_channel": self.release_channel,
                    "availability": {
                        "recommended_status": "healthy",
                        "updated_at": _UPDATED_AT,
                    },
                    "schemes": schemes,
                }
            }
        }
        if self.vrp:
            capabilities["mandates"] = {
                "vrp_sweeping": {"release_channel": self.release_channel},
                "vrp_commercial": {"release_channel": self.release_channel},
            }
        return {
            "id": self.id,
            "display_name": self.display_name,
            "icon_uri": _ICON,
            "logo_uri": _LOGO,
            "bg_color": "#1A1A2E",
            "country_code": self.country_code,
            "capabilities": capabilities,
        }


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "mock-payments-gb-redirect",
        "Mock UK Payments - Redirect Flow",
        "GB",
        "GBP",
        ("faster_payments_service",),
        vrp=True,
    ),
    Provider(
        "mock-payments-fi-redirect",
        "Mock Finland Payments - Redirect Flow",
        "FI",
        "EUR",
        ("sepa_credit_transfer_instant", "sepa_credit_transfer"),
    ),
    Provider(
        "mock-payments-es-branch-redirect",
        "Mock Spain Payments - Branch Selection",
        "ES",
        "EUR",
        ("sepa_credit_transfer",),
        branches=(("branch-madrid", "Madrid Centro"), ("branch-sevilla", "Sevilla Sur")),
    ),
    Provider(
        "mock-payments-gb-beta-redirect",
        "Mock UK Payments - Beta",
        "GB",
        "GBP",
        ("faster_payments_service",),
        release_channel="public_beta",
    ),
)
_CHANNEL_RANK = {"general_availability": 0, "public_beta": 1, "private_beta": 2, "alpha": 3}


def find(provider_id: str) -> Provider | None:
    """The provider with this id, if any."""
    return next((p for p in PROVIDERS if p.id == provider_id), None)


def search(
    *,
    countries: Iterable[str] | None = None,
    currencies: Iterable[str] | None = None,
    release_channel: str | None = None,
    provider_ids: Iterable[str] | None = None,
    excluded_ids: Iterable[str] = (),
    capabilities: Mapping[str, Any] | None = None,
    forms: bool = True,
) -> list[Provider]:
    """Providers matching every given filter. ``release_channel`` admits that channel and
    the more stable ones (``private_beta`` also lists ``public_beta`` and GA providers);
    ``forms=False`` leaves out providers that need a ``form`` step."""
    rank = _CHANNEL_RANK.get(release_channel or "general_availability", 0)
    wanted_countries = set(countries) if countries is not None else None
    wanted_currencies = set(currencies) if currencies is not None else None
    wanted_ids = set(provider_ids) if provider_ids is not None else None
    excluded = set(excluded_ids)
    mandates = (capabilities or {}).get("mandates")
    found = []
    for provider in PROVIDERS:
        if wanted_countries is not None and provider.country_code not in wanted_countries:
            continue
        if wanted_currencies is not None and provider.currency not in wanted_currencies:
            continue
        if wanted_ids is not None and provider.id not in wanted_ids:
            continue
        if provider.id in excluded or _CHANNEL_RANK[provider.release_channel] > rank:
            continue
        if mandates and not provider.vrp:
            continue
        if provider.branches and not forms:
            continue
        found.append(provider)
    return found
