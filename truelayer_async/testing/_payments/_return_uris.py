"""The Console allow-list of ``return_uri``s (truelayer-api-v3.md §4.5, §4.13): a hosted
page, an authorization flow or a payment link may only send the user back to a URI
registered for the client. Off (any URI) until ``fake.allow_return_uris(...)`` or
``--return-uri`` turns it on for a client.

The API answers 400 ``Invalid Parameters`` naming the field; a hosted page shows its
error page (400) and never redirects to the URI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._api import PaymentsApi
from ._validate import Errors, raise_if_any

__all__ = ["NOT_ALLOWED", "PAGE_REFUSAL", "allowed", "check_return_uris"]

NOT_ALLOWED = "The return_uri is not in the client's allowed redirect URIs (Console)."
#: What a hosted page says (error page, 400) instead of redirecting to such a URI.
PAGE_REFUSAL = "The return_uri is not allowed for this client."


def allowed(api: PaymentsApi, client_id: str, uri: str) -> bool:
    """Whether ``client_id`` may send users back to ``uri``."""
    client = api.state.clients.get(client_id)
    return client is None or client.allows_return_uri(uri)


def _at(body: Mapping[str, Any], field: str) -> Any:
    """``body``'s value at the dotted ``field`` (``redirect.return_uri``), or ``None``
    where a level is missing."""
    value: Any = body
    for name in field.split("."):
        value = value.get(name) if isinstance(value, Mapping) else None
    return value


def check_return_uris(
    api: PaymentsApi, client_id: str, body: Mapping[str, Any], *fields: str
) -> None:
    """400 ``Invalid Parameters`` naming each of ``fields`` (dotted paths into ``body``)
    whose URI the client has not allow-listed; fields left out or not text are other
    checks' business."""
    errors = Errors()
    for field in fields:
        uri = _at(body, field)
        if isinstance(uri, str) and uri and not allowed(api, client_id, uri):
            errors.add(field, NOT_ALLOWED)
    raise_if_any(errors)
