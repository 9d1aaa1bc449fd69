"""``tl.payments_providers``: search the banks that take payments, or look one up."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from .. import errors as e
from .._raw import raw_method
from ..models import PaymentsProvider
from . import _payments_api as api

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["PaymentsProvidersService", "RawPaymentsProvidersService"]

#: The search's default ``authorization_flow``: a front end that shows a bank picker and
#: redirects to the bank (what the hosted page and most integrations do).
DEFAULT_SEARCH_FLOW: Mapping[str, Any] = {
    "configuration": {"provider_selection": {}, "redirect": {}}
}


def _strings(name: str, value: Collection[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(item, str) for item in value):
        raise e.InvalidParameterError(f"{name} must be a collection of strings")
    return list(value)


class PaymentsProvidersService:
    """Payments API v3 providers. Reached as ``tl.payments_providers``.

    Errors: ``PaymentsApiError`` (e.g. 404 for an unknown provider),
    ``InvalidParameterError`` (before any request), ``TransportError``,
    ``MalformedResponseError``.
    """

    def __init__(self, core: Core) -> None:
        self._core = core
        self.with_raw_response = RawPaymentsProvidersService(self)

    async def search(
        self,
        *,
        countries: Collection[str] | None = None,
        currencies: Collection[str] | None = None,
        release_channel: str | None = None,
        customer_segments: Collection[str] | None = None,
        capabilities: Mapping[str, Any] | None = None,
        authorization_flow: Mapping[str, Any] | None = None,
    ) -> list[PaymentsProvider]:
        """Providers matching the filters (``POST /v3/payments-providers/search``).

        ``authorization_flow`` is the wire object ``{"configuration": {...}}`` saying
        what your front end can do; by default a bank picker and a redirect
        (:data:`DEFAULT_SEARCH_FLOW`). ``capabilities`` is the wire object too, e.g.
        ``{"payments": {"bank_transfer": {}}}``.
        """
        body: dict[str, Any] = {
            "authorization_flow": dict(authorization_flow or DEFAULT_SEARCH_FLOW)
        }
        lists = {
            "countries": _strings("countries", countries),
            "currencies": _strings("currencies", currencies),
            "customer_segments": _strings("customer_segments", customer_segments),
        }
        body.update({name: value for name, value in lists.items() if value is not None})
        if release_channel is not None:
            body["release_channel"] = release_channel
        if capabilities is not None:
            body["capabilities"] = dict(capabilities)
        found = await api.send(self._core, api.SEARCH_PROVIDERS, body=body)
        return list(found.items)

    async def get(
        self,
        provider_id: str,
        *,
        client_id: str | None = None,
        icon_type: str | None = None,
    ) -> PaymentsProvider:
        """One provider (``GET /v3/payments-providers/{id}``).

        With ``client_id`` the call is made without a token (as a front end would), with
        that client's settings applied; otherwise with the Payments client token.
        ``icon_type``: ``default``, ``extended``, ``extended_small``… .
        """
        params = {
            name: value
            for name, value in (("client_id", client_id), ("icon_type", icon_type))
            if value is not None
        }
        return await api.send(
            self._core,
            api.GET_PROVIDER,
            {"provider_id": provider_id},
            params=params or None,
            authenticated=client_id is None,
        )


class RawPaymentsProvidersService:
    """``tl.payments_providers.with_raw_response``: the same methods returning a
    :class:`~truelayer_async.RawResponse`."""

    def __init__(self, providers: PaymentsProvidersService) -> None:
        self.search = raw_method(providers.search)
        self.get = raw_method(providers.get)
