"""Auth links to the emulator's consent dialog, built by hand with sensible defaults."""

from __future__ import annotations

from urllib.parse import urlencode

from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_REDIRECT_URI

__all__ = ["ALL_SCOPES", "AUTH", "auth_link"]

#: The in-process emulator's auth base URL.
AUTH = "https://auth.truelayer.fake"
ALL_SCOPES = (
    "info accounts balance cards transactions direct_debits standing_orders offline_access "
    "verification"
)


def auth_link(base: str = AUTH, /, **params: str | None) -> str:
    """An auth link with sensible defaults; ``None`` drops a parameter."""
    query: dict[str, str | None] = {
        "response_type": "code",
        "client_id": DEFAULT_CLIENT_ID,
        "redirect_uri": DEFAULT_REDIRECT_URI,
        "scope": ALL_SCOPES,
        "state": "state-123",
        "providers": "uk-cs-mock uk-ob-all uk-oauth-all",
    }
    query.update(params)
    return f"{base}/?" + urlencode({k: v for k, v in query.items() if v is not None})
