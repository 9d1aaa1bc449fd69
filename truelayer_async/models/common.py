"""Objects shared by several Data API resources, and the results envelope."""

from __future__ import annotations

from typing import Generic, TypeVar

import attrs

from .enums import AsyncStatus

__all__ = ["Envelope", "ProviderInfo"]

T = TypeVar("T")

#: attrs metadata key naming a field's JSON key when it differs from the attribute name
#: (e.g. ``from``, which is a Python keyword). The converter honours it both ways.
WIRE_NAME = "truelayer_async.wire_name"


@attrs.frozen(kw_only=True)
class ProviderInfo:
    """The ``provider`` object on ``/me``, accounts and cards.

    Attributes:
        provider_id: TrueLayer's provider id, e.g. ``ob-lloyds`` or ``mock``.
        display_name: deprecated on accounts and cards (use ``/api/providers``), still sent
            by ``/me`` and by older responses.
        logo_uri: deprecated like ``display_name``. Note the auth server's provider list
            calls the same thing ``logo_url``.
    """

    provider_id: str
    display_name: str | None = None
    logo_uri: str | None = None


@attrs.frozen(kw_only=True)
class Envelope(Generic[T]):
    """The Data API success envelope ``{"results": [...], "status": "Succeeded"}``.

    ``results`` is always a list, even for single-object resources such as ``/me``.
    ``status`` is ``None`` when the server left it out (some documented examples do).
    """

    results: list[T]
    status: AsyncStatus | str | None = None
