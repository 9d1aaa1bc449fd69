"""Constants shared by the emulator and its users; importing this module is cheap."""

from __future__ import annotations

__all__ = [
    "CLIENT_CREDENTIALS_SCOPES",
    "DATA_SCOPES",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SCOPES",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_REDIRECT_URI",
    "DEFAULT_REDIRECT_URIS",
    "FAKE_API_URL",
    "FAKE_AUTH_URL",
    "LINK_SCOPES",
]

#: The client registered in every new ``FakeTrueLayer``.
DEFAULT_CLIENT_ID = "sandbox-truelayer-async"
DEFAULT_CLIENT_SECRET = "sandbox-secret-not-for-production"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8080/callback"
DEFAULT_REDIRECT_URIS = (
    DEFAULT_REDIRECT_URI,
    "http://localhost:8080/callback",
    "http://127.0.0.1:8000/callback",
)

#: Base URLs used by the in-process emulator (the host is ignored, so any would do).
FAKE_AUTH_URL = "https://auth.truelayer.fake"
FAKE_API_URL = "https://api.truelayer.fake"

#: Data API scopes, in TrueLayer's usual order.
DATA_SCOPES = (
    "info",
    "accounts",
    "balance",
    "cards",
    "transactions",
    "direct_debits",
    "standing_orders",
    "offline_access",
)
#: Scopes an auth link may ask for.
LINK_SCOPES = frozenset((*DATA_SCOPES, "verification"))
#: Scopes the client-credentials grant may ask for.
CLIENT_CREDENTIALS_SCOPES = frozenset(
    (
        "payments",
        "recurring_payments:sweeping",
        "recurring_payments:commercial",
        "mandates",
        "signupplus",
        "verification",
        "verification:fr",
        "verification:bank_lookup",
        "payouts",
        "paydirect",
    )
)
#: Scopes a client gets when ``register_client`` is not told otherwise.
DEFAULT_CLIENT_SCOPES = (
    *DATA_SCOPES,
    "payments",
    "verification",
    "verification:fr",
    "verification:bank_lookup",
    "recurring_payments:sweeping",
    "recurring_payments:commercial",
    "mandates",
)
