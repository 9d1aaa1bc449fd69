"""``truelayer-async login``: the real auth flow, with a loopback redirect."""

from __future__ import annotations

import argparse
import webbrowser
from typing import TYPE_CHECKING

import anyio.to_thread

from .. import errors as e
from .._retry import RetryMode
from ..tokens import DATA_SCOPES
from ._callback_server import CallbackServer, Page
from ._config import default_providers, environment, open_session, store_path, where_flags
from ._errors import OK, USAGE, CliError, ErrorContext, who_is
from ._output import console

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["check_client", "run_login"]

#: Asked for by the credentials check: a client-credentials scope. The token, if any,
#: is thrown away; a refusal of the scope itself still proves the credentials.
_CHECK_SCOPE = "payments"


def _split(text: str) -> list[str]:
    return [item for item in text.replace(",", " ").split() if item]


def _open_browser(url: str) -> bool:
    """Open ``url`` in the user's browser, if there is one."""
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return webbrowser.open(url)


async def check_client(tl: Session) -> None:
    """Prove the client id and secret before the user spends time at the bank.

    One client-credentials grant, never stored. Only ``invalid_client`` means wrong
    credentials: any other refusal (a scope or grant this client may not use) comes after
    the server authenticated the client. Network failures propagate.
    """
    form = tl._core.client_form("client_credentials")
    form["scope"] = _CHECK_SCOPE
    try:
        await tl._core.tokens.token_request(form, RetryMode.IDEMPOTENT)
    except e.AuthApiError as exc:
        if exc.error == "invalid_client" or isinstance(exc, e.TokenEndpointUnavailable):
            raise


async def run_login(args: argparse.Namespace) -> int:
    """Print (and open) the auth link, receive the redirect, exchange the code, save it."""
    scopes = _split(args.scopes) if args.scopes else list(DATA_SCOPES)
    if not scopes:
        raise CliError("--scopes is empty", USAGE)
    env = environment(args)
    providers = _split(args.providers) if args.providers else _split(default_providers(env))
    context = ErrorContext(user=args.user, flags=where_flags(args))
    server = CallbackServer(args.redirect_uri, context=context)
    out = console()
    async with open_session(args, create_store=True, redirect_uri=args.redirect_uri) as tl:
        await check_client(tl)  # before the browser: a wrong secret fails in a second
        link = tl.auth.auth_link(scopes=scopes, pkce=True, providers=providers)
        async with server:
            # Plain print: the link must stay on one line to be copied.
            print(f"Open this link to connect a bank account ({env.name}):\n\n{link.url}\n")
            opened = False
            if not args.no_browser:
                opened = await anyio.to_thread.run_sync(_open_browser, link.url)
            how = "Opened it in your browser. " if opened else ""
            print(
                f"{how}Waiting for the redirect on {args.redirect_uri} "
                f"(up to {args.timeout:g} s; Ctrl-C to cancel)...",
                flush=True,
            )
            saved = []

            async def handle(query: str) -> Page:
                code = tl.auth.parse_callback(query, expected_state=link.state)
                token = await tl.auth.exchange_code(
                    code, user=args.user, code_verifier=link.code_verifier
                )
                saved.append(token)
                return 200, "Connected", "Your bank account is connected. Return to the terminal."

            await server.wait(handle, seconds=args.timeout)
    token = saved[0]
    who = who_is(args.user)
    out.print(
        f"Logged in: token saved for {who} in {store_path(args)} "
        f"(scopes: {' '.join(token.scopes) or '-'}; expires {token.expires_at:%Y-%m-%d %H:%M} "
        f"UTC; refresh token: {'yes' if token.refresh_token else 'no'})."
    )
    return OK
