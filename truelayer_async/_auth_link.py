"""Building auth links: every parameter of TrueLayer's auth dialog, validated up front."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from urllib.parse import quote, urlencode

import attrs

from ._pkce import CHALLENGE_METHOD, code_challenge, new_code_verifier
from ._secret import Secret
from .errors import InvalidParameterError

__all__ = ["AuthLink", "build_auth_link"]

LANGUAGES = frozenset({"en", "es", "it", "fr", "de", "pl", "pt", "sv", "nl"})
_COUNTRY = re.compile(r"[A-Za-z]{2}")


@attrs.frozen
class AuthLink:
    """An auth link to send the user's browser to, with what the callback needs.

    Keep ``state``, ``redirect_uri`` and ``code_verifier`` server-side until the callback
    arrives. ``str(link)`` is ``link.url``. The repr shows neither the state nor the
    verifier.
    """

    url: str = attrs.field(repr=False)
    state: str = attrs.field(repr=False)
    nonce: str | None = attrs.field(repr=False)
    redirect_uri: str
    code_verifier: Secret | None = None

    def __str__(self) -> str:
        return self.url


def _joined(name: str, values: Iterable[str] | str | None) -> str | None:
    if values is None:
        return None
    items = values.split() if isinstance(values, str) else list(values)
    for item in items:
        if not isinstance(item, str) or not item or any(c.isspace() for c in item):
            raise InvalidParameterError(f"{name} entries must be non-empty strings without spaces")
    return " ".join(items)


def _covers(providers: list[str], provider_id: str) -> bool:
    return provider_id in providers or any(p.endswith("-all") for p in providers)


def build_auth_link(
    auth_url: str,
    client_id: str,
    *,
    scopes: Iterable[str] | str,
    redirect_uri: str | None,
    state: str | None = None,
    nonce: str | None = None,
    providers: Iterable[str] | str | None = None,
    provider_id: str | None = None,
    disable_providers: Iterable[str] | str | None = None,
    response_mode: str | None = None,
    user_email: str | None = None,
    language_id: str | None = None,
    country_id: str | None = None,
    tracking_id: str | None = None,
    enable_mock: bool = False,
    pkce: bool = False,
) -> AuthLink:
    """Validate every argument, then build the link (see ``AuthService.auth_link``)."""
    scope = _joined("scopes", scopes)
    if not scope:
        raise InvalidParameterError("scopes must not be empty")
    if not redirect_uri:
        raise InvalidParameterError("a redirect_uri is needed: pass one, or set it on the Session")
    provider_list = (_joined("providers", providers) or "").split()
    if provider_id is not None:
        if not provider_list:
            raise InvalidParameterError("provider_id needs providers that cover it")
        if not _covers(provider_list, provider_id):
            raise InvalidParameterError(
                f"provider_id {provider_id!r} is not covered by providers "
                "(list it, or include a '*-all' selector)"
            )
    if language_id is not None and language_id not in LANGUAGES:
        raise InvalidParameterError(f"language_id must be one of {', '.join(sorted(LANGUAGES))}")
    if country_id is not None and _COUNTRY.fullmatch(country_id) is None:
        raise InvalidParameterError("country_id must be a two-letter ISO 3166-1 code")
    if response_mode is not None and response_mode != "form_post":
        raise InvalidParameterError("response_mode can only be 'form_post' (or None)")
    if state is None:
        state = secrets.token_urlsafe(32)
    elif not state:
        raise InvalidParameterError("state must not be empty")

    verifier = new_code_verifier() if pkce else None
    params: list[tuple[str, str]] = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", scope),
        ("state", state),
    ]
    optional: list[tuple[str, str | None]] = [
        ("nonce", nonce),
        ("providers", " ".join(provider_list) or None),
        ("provider_id", provider_id),
        ("disable_providers", _joined("disable_providers", disable_providers)),
        ("response_mode", response_mode),
        ("user_email", user_email),
        ("language_id", language_id),
        ("country_id", country_id),
        ("tracking_id", tracking_id),
        ("enable_mock", "true" if enable_mock else None),
    ]
    params.extend((k, v) for k, v in optional if v is not None)
    if verifier is not None:
        params.append(("code_challenge", code_challenge(verifier)))
        params.append(("code_challenge_method", CHALLENGE_METHOD))
    # %20 rather than '+' for spaces: both decode the same, %20 reads better in scopes.
    url = f"{auth_url}/?{urlencode(params, quote_via=quote)}"
    return AuthLink(
        url=url,
        state=state,
        nonce=nonce,
        redirect_uri=redirect_uri,
        code_verifier=None if verifier is None else Secret(verifier),
    )
