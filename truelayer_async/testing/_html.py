"""The auth dialog's HTML pages (plain forms, no JavaScript needed except form_post).

Stable hooks for browser tests and HTTP-walking clients (``consent.complete_consent``):

* every page: ``<body data-step="provider|login|consent|redirect|error">``;
* provider selection: ``<form id="provider-form" method="post">`` with one
  ``<button name="provider_id" value="{id}" id="provider-{id}">`` per provider;
* login: ``<form id="login-form" method="post">``, ``<input name="username" id="username">``,
  ``<input name="password" id="password" type="password">``,
  ``<button id="login-submit">``; a rejected login shows ``<p id="login-error">``;
* consent: ``<form id="consent-form" method="post">`` with
  ``<button name="action" value="approve" id="approve">`` and
  ``<button name="action" value="cancel" id="cancel">``; each scope is an
  ``<li class="scope" data-scope="{scope}">``;
* ``response_mode=form_post``: ``<form id="redirect-form" method="post" action="{redirect_uri}">``
  with hidden ``code``/``state`` (or ``error``/``state``) inputs, auto-submitted by a script,
  and a ``<button id="redirect-submit">`` for clients without JavaScript;
* errors: ``<code id="error-code">`` and ``<p id="error-description">``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from ._catalog import Provider

__all__ = ["consent_page", "error_page", "form_post_page", "login_page", "provider_page"]

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}button{display:block;width:100%;margin:.4rem 0;padding:.6rem;font-size:1rem}
input{display:block;width:100%;box-sizing:border-box;margin:.2rem 0 .8rem;padding:.5rem}
.error{color:#b00020}.note{color:#666;font-size:.85rem}
"""

_SCOPE_TEXT = {
    "info": "Your full name and contact details",
    "accounts": "Your account details",
    "balance": "Your balances",
    "cards": "Your card details",
    "transactions": "Your transactions",
    "direct_debits": "Your direct debits",
    "standing_orders": "Your standing orders",
    "offline_access": "Access while you are not using the app (up to 90 days)",
    "verification": "Your account holder name, to verify it",
    "signupplus": "Your identity: name, date of birth and address (Signup+)",
}


def _page(step: str, title: str, body: str, *, language: str = "en") -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · TrueLayer emulator</title><style>{_STYLE}</style></head>"
        f'<body data-step="{escape(step)}"><h1>{escape(title)}</h1>\n{body}\n'
        '<p class="note">Local TrueLayer emulator (truelayer_async.testing). Not a real bank.</p>'
        "</body></html>\n"
    )


def provider_page(action: str, providers: Iterable[Provider], *, language: str) -> str:
    """Bank selection."""
    buttons = "\n".join(
        f'<button type="submit" name="provider_id" value="{escape(p.provider_id)}" '
        f'id="provider-{escape(p.provider_id)}">{escape(p.display_name)}</button>'
        for p in providers
    )
    body = f'<form id="provider-form" method="post" action="{escape(action)}">\n{buttons}\n</form>'
    return _page("provider", "Choose your bank", body, language=language)


def login_page(
    action: str, provider: Provider, *, language: str, error: str | None, username: str = ""
) -> str:
    """The mock bank's login form."""
    alert = (
        f'<p id="login-error" class="error" role="alert">{escape(error)}</p>\n' if error else ""
    )
    body = (
        f"<p>Log in to {escape(provider.display_name)}. Try <code>john</code> / "
        "<code>doe</code>.</p>\n"
        f"{alert}"
        f'<form id="login-form" method="post" action="{escape(action)}">\n'
        '<label for="username">Username</label>'
        f'<input type="text" name="username" id="username" autocomplete="username" '
        f'value="{escape(username)}">\n'
        '<label for="password">Password</label>'
        '<input type="password" name="password" id="password" autocomplete="current-password">\n'
        '<button type="submit" id="login-submit">Log in</button>\n</form>'
    )
    return _page("login", f"{provider.display_name} login", body, language=language)


def consent_page(
    action: str, client_id: str, scopes: Iterable[str], provider: Provider, *, language: str
) -> str:
    """Approve or cancel sharing the listed data."""
    items = "\n".join(
        f'<li class="scope" data-scope="{escape(s)}">{escape(_SCOPE_TEXT.get(s, s))}</li>'
        for s in scopes
    )
    body = (
        f"<p><strong>{escape(client_id)}</strong> asks to access, at "
        f"{escape(provider.display_name)}:</p>\n<ul>\n{items}\n</ul>\n"
        f'<form id="consent-form" method="post" action="{escape(action)}">\n'
        '<button type="submit" name="action" value="approve" id="approve">Allow</button>\n'
        '<button type="submit" name="action" value="cancel" id="cancel">Cancel</button>\n'
        "</form>"
    )
    return _page("consent", "Share your data", body, language=language)


def form_post_page(redirect_uri: str, fields: Mapping[str, str]) -> str:
    """``response_mode=form_post``: a form that POSTs the result to the redirect URI."""
    inputs = "\n".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items()
    )
    body = (
        f'<form id="redirect-form" method="post" action="{escape(redirect_uri)}">\n{inputs}\n'
        '<button type="submit" id="redirect-submit">Continue</button>\n'
        "</form>\n<script>document.getElementById('redirect-form').submit()</script>"
    )
    return _page("redirect", "Redirecting…", body)


def error_page(error: str, description: str) -> str:
    """An error the dialog shows instead of redirecting."""
    body = (
        f'<p>Error: <code id="error-code">{escape(error)}</code></p>\n'
        f'<p id="error-description">{escape(description)}</p>'
    )
    return _page("error", "Something went wrong", body)
