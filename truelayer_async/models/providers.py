"""``GET {auth_host}/api/providers``: a bare JSON array of providers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

__all__ = [
    "Provider",
    "ProviderAvailability",
    "ProviderStep",
    "ProviderStepField",
    "ProviderStepValue",
]


@attrs.frozen(kw_only=True)
class ProviderAvailability:
    """How healthy TrueLayer currently rates a provider.

    Attributes:
        recommended_status: e.g. ``healthy`` (open string).
        updated_at: when the rating was computed.
    """

    recommended_status: str | None = None
    updated_at: datetime | None = None


@attrs.frozen(kw_only=True)
class ProviderStepValue:
    """One choice of a single-choice input (e.g. a bank branch)."""

    value: str
    display_name: str | None = None


@attrs.frozen(kw_only=True)
class ProviderStepField:
    """One extra input a provider asks for in the auth dialog.

    Only ``type`` and ``id`` are required (the OpenAPI document also requires the
    display fields, but a provider listing should not fail over a missing label).

    Attributes:
        type: e.g. ``SingleChoiceField`` or a free-input type.
        id: the field's id within its step, e.g. ``branch-name``.
        display_name: the field's label.
        help_text: help for the end user.
        mandatory: whether the field must be filled in.
        is_sensitive: for free input: whether the value is secret (e.g. a password).
        values: for single choice: the choices.
        validations: for free input: validation rules, as sent.
        allowed_characters: for free input: e.g. ``alphanumeric`` or ``numeric``.
    """

    type: str
    id: str
    display_name: str | None = None
    help_text: str | None = None
    mandatory: bool | None = None
    is_sensitive: bool | None = None
    values: tuple[ProviderStepValue, ...] | None = None
    validations: tuple[Any, ...] | None = None
    allowed_characters: str | None = None


@attrs.frozen(kw_only=True)
class ProviderStep:
    """A group of extra auth inputs, e.g. ``OAuthRedirect`` with a branch choice."""

    title: str | None = None
    fields: tuple[ProviderStepField, ...] = ()


@attrs.frozen(kw_only=True)
class Provider:
    """One item of the auth server's provider list (``GET /api/providers``).

    Attributes:
        provider_id: TrueLayer's provider id, e.g. ``mock`` or ``ob-lloyds``.
        display_name: human-friendly name.
        country: lowercase country code (``uk`` for Great Britain).
        logo_url: logo URL (``logo_url`` here; Data API objects say ``logo_uri``).
        scopes: the scopes the provider supports.
        steps: extra inputs the auth dialog asks for, if any.
        availability: TrueLayer's current health rating.
    """

    provider_id: str
    display_name: str
    country: str
    logo_url: str
    scopes: tuple[str, ...]
    steps: tuple[ProviderStep, ...] | None = None
    availability: ProviderAvailability | None = None
