"""A FastAPI backend that connects its users' bank accounts and shows their data.

* One ``Session`` lives as long as the app: it is opened and closed by the lifespan handler
  and shared by every request (it is safe for concurrent use on one event loop).
* ``/login`` builds the auth link (PKCE) and keeps the ``state`` and the code verifier on
  the server, keyed by a per-browser session cookie; the browser only sees the link.
* ``/callback`` checks the state and exchanges the code for *that* browser's user.
* ``/accounts`` and ``/transactions`` show the user's data (readable on a phone too);
  tokens are kept per user in the Session's token store (memory) and refreshed when needed.

Where it runs is chosen by ``TRUELAYER_ENVIRONMENT``, never by which variables are set:

* ``emulator`` (the default): the emulator is served on a free loopback port next to the
  app, so a browser can click through the mock bank (log in as john / doe)::

      python examples/fastapi_app.py          # then open http://127.0.0.1:8000/

* ``sandbox`` or ``production``: TrueLayer, with ``TRUELAYER_CLIENT_ID`` and
  ``TRUELAYER_CLIENT_SECRET``; register ``http://127.0.0.1:8000/callback`` (or set
  ``TRUELAYER_REDIRECT_URI``) as a redirect URI of your client.

``--port 0`` picks any free port; a port in use is reported in one line (exit code 1).
Needs ``pip install "truelayer-async[examples]"``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack, asynccontextmanager
from datetime import date, timedelta
from html import escape
from typing import Any, NoReturn

import anyio
import attrs
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

import truelayer_async as tla
from truelayer_async.models import AccountBalance
from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeTrueLayer

COOKIE = "tl_example_sid"
PENDING_TTL = 600.0  # seconds a started login may take


@attrs.define
class PendingLogin:
    """What the callback needs, kept server-side between /login and /callback."""

    state: str
    code_verifier: tla.Secret | None
    redirect_uri: str
    started: float = attrs.field(factory=time.monotonic)


@attrs.define
class BrowserSession:
    """One browser: the user it acts for and its login in progress, if any.

    A real app would use its own user accounts; here each browser is a user.
    """

    user: str = attrs.field(factory=lambda: "web-" + secrets.token_hex(6))
    pending: PendingLogin | None = None


def page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto;
        padding: 0 1rem; color: #1d2433; }}
 header {{ display: flex; flex-wrap: wrap; gap: 0 1rem; align-items: baseline;
          border-bottom: 1px solid #dde; margin-bottom: 1rem; }}
 header strong {{ margin-right: auto; }}
 table {{ border-collapse: collapse; width: 100%; }}
 th, td {{ text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #eef; }}
 td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
 td {{ overflow-wrap: anywhere; }}
 /* Phones: each row becomes a card of "label  value" lines. */
 @media (max-width: 40rem) {{
   body {{ margin: 1rem auto; }}
   thead {{ display: none; }}
   table, tbody, tr, td {{ display: block; }}
   tr {{ padding: .4rem 0; border-bottom: 1px solid #dde; }}
   td, td.num {{ display: flex; justify-content: space-between; gap: 1rem;
                text-align: right; border: 0; padding: .15rem 0; }}
   td::before {{ content: attr(data-label); color: #667; text-align: left; }}
 }}
 .muted {{ color: #667; }} .error {{ color: #b00020; }}
 a.button {{ display: inline-block; padding: .5rem 1rem; background: #1d4ed8; color: white;
            border-radius: .3rem; text-decoration: none; }}
</style></head>
<body><header><strong>truelayer_async · FastAPI example</strong>
<a href="/">Home</a><a href="/accounts">Accounts</a></header>
<h1>{escape(title)}</h1>
{body}
</body></html>"""
    return HTMLResponse(html, status_code=status)


def create_app(
    session_factory: Callable[[], tla.Session],
    *,
    providers: str = "uk-ob-all uk-oauth-all",
    secure_cookies: bool = False,
    days: int = 90,
) -> FastAPI:
    """The app. ``session_factory`` makes the Session that the lifespan opens and closes;
    its ``redirect_uri`` must be this app's ``/callback`` as registered at TrueLayer.
    ``providers`` are the banks offered by the auth dialog."""
    browsers: dict[str, BrowserSession] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with session_factory() as tl:
            app.state.tl = tl
            yield

    app = FastAPI(lifespan=lifespan, title="truelayer_async example")

    def tl_of(request: Request) -> tla.Session:
        tl: tla.Session = request.app.state.tl
        return tl

    def browser_of(request: Request) -> tuple[str, BrowserSession] | None:
        sid = request.cookies.get(COOKIE)
        if sid and sid in browsers:
            return sid, browsers[sid]
        return None

    def with_cookie(response: Response, sid: str) -> Response:
        response.set_cookie(
            COOKIE, sid, httponly=True, samesite="lax", secure=secure_cookies, path="/"
        )
        return response

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request) -> Response:
        found = browser_of(request)
        connected = False
        if found is not None:
            try:
                await tl_of(request).auth.valid_token(user=found[1].user)
                connected = True
            except (tla.NoTokenError, tla.ReauthorizationRequired):
                pass
        if connected:
            body = (
                "<p>Your bank account is connected.</p>"
                '<p><a class="button" href="/accounts">See your accounts</a></p>'
            )
        else:
            body = (
                "<p>Connect a bank account to see your balances and transactions.</p>"
                '<p><a class="button" id="connect" href="/login">Connect your bank</a></p>'
            )
        return page("Welcome", body)

    @app.get("/login")
    async def login(request: Request) -> Response:
        found = browser_of(request)
        if found is None:
            sid, browser = secrets.token_urlsafe(24), BrowserSession()
            browsers[sid] = browser
        else:
            sid, browser = found
        tl = tl_of(request)
        link = tl.auth.auth_link(scopes=tla.DATA_SCOPES, pkce=True, providers=providers)
        browser.pending = PendingLogin(link.state, link.code_verifier, link.redirect_uri)
        return with_cookie(RedirectResponse(link.url, status_code=303), sid)

    @app.get("/callback")
    async def callback(request: Request) -> Response:
        found = browser_of(request)
        pending = None if found is None else found[1].pending
        if found is None or pending is None:
            return page(
                "No login in progress",
                '<p class="error">This browser did not start a login.</p>'
                '<p><a href="/login">Start again</a></p>',
                status=400,
            )
        _, browser = found
        browser.pending = None  # one attempt per state
        if time.monotonic() - pending.started > PENDING_TTL:
            return page("Login expired", '<p><a href="/login">Start again</a></p>', status=400)
        tl = tl_of(request)
        try:
            code = tl.auth.parse_callback(request.url.query, expected_state=pending.state)
            await tl.auth.exchange_code(
                code,
                user=browser.user,
                code_verifier=pending.code_verifier,
                redirect_uri=pending.redirect_uri,
            )
        except tla.AuthorizationDenied:
            return page(
                "Not connected",
                '<p>You did not allow access.</p><p><a href="/login">Try again</a></p>',
            )
        except tla.AuthorizationCallbackError as exc:
            return page("Login failed", f'<p class="error">{escape(str(exc))}</p>', status=400)
        return RedirectResponse("/accounts", status_code=303)

    async def user_or_redirect(request: Request) -> str | Response:
        found = browser_of(request)
        if found is None:
            return RedirectResponse("/", status_code=303)
        return found[1].user

    def reconnect() -> Response:
        return page(
            "Please reconnect your bank",
            "<p>Your consent expired or was withdrawn.</p>"
            '<p><a class="button" href="/login">Reconnect</a></p>',
        )

    @app.get("/accounts", response_class=HTMLResponse)
    async def accounts(request: Request) -> Response:
        user = await user_or_redirect(request)
        if isinstance(user, Response):
            return user
        tl = tl_of(request)
        try:
            items = await tl.data.accounts(user=user)
            balances: dict[str, AccountBalance] = {}

            async def one(account_id: str) -> None:
                balances[account_id] = await tl.data.balance(account_id, user=user)

            async with anyio.create_task_group() as tg:
                for account in items:
                    tg.start_soon(one, account.account_id)
        except tla.NoTokenError:
            return RedirectResponse("/", status_code=303)
        except tla.ReauthorizationRequired:
            return reconnect()
        rows = "\n".join(
            f'<tr class="account" data-account-id="{escape(a.account_id)}">'
            f'<td data-label="Account"><a href="/transactions?account_id='
            f'{escape(a.account_id)}">{escape(a.display_name)}</a></td>'
            f'<td data-label="Type">{escape(str(a.account_type or "-"))}</td>'
            f'<td data-label="Number">{escape(a.account_number.sort_code or "")} '
            f"{escape(a.account_number.number or '')}</td>"
            f'<td class="num" data-label="Current">{balances[a.account_id].current:,} '
            f"{escape(a.currency)}</td>"
            f'<td class="num" data-label="Available">'
            f"{_opt(balances[a.account_id].available)} {escape(a.currency)}</td>"
            "</tr>"
            for a in items
        )
        body = (
            f'<p class="muted">{len(items)} accounts connected for {escape(user)}.</p>'
            '<table id="accounts"><thead><tr><th>Account</th><th>Type</th><th>Number</th>'
            '<th class="num">Current</th><th class="num">Available</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
        return page("Your accounts", body)

    @app.get("/transactions", response_class=HTMLResponse)
    async def transactions(request: Request, account_id: str) -> Response:
        user = await user_or_redirect(request)
        if isinstance(user, Response):
            return user
        tl = tl_of(request)
        today = date.today()
        try:
            account = await tl.data.account(account_id, user=user)
            txns = await tl.data.transactions(
                account_id, from_=today - timedelta(days=days), to=today, user=user
            )
        except tla.NoTokenError:
            return RedirectResponse("/", status_code=303)
        except tla.ReauthorizationRequired:
            return reconnect()
        except tla.AccountNotFoundError:
            return page("No such account", '<p><a href="/accounts">Back</a></p>', status=404)
        rows = "\n".join(
            f'<tr class="transaction"><td data-label="Date">{t.timestamp:%Y-%m-%d}</td>'
            f'<td data-label="Description">{escape(t.merchant_name or t.description)}</td>'
            f'<td data-label="Category">{escape(str(t.transaction_category))}</td>'
            f'<td class="num" data-label="Amount">{t.amount:,} {escape(t.currency)}</td></tr>'
            for t in txns
        )
        body = (
            f'<p class="muted">{len(txns)} transactions in the last {days} days. '
            '<a href="/accounts">Back to accounts</a></p>'
            '<table id="transactions"><thead><tr><th>Date</th><th>Description</th>'
            f'<th>Category</th><th class="num">Amount</th></tr></thead><tbody>{rows}</tbody>'
            "</table>"
        )
        return page(account.display_name, body)

    return app


def _opt(value: Any) -> str:
    return "-" if value is None else f"{value:,}"


# -- running it --------------------------------------------------------------------------

TARGETS = ("emulator", "sandbox", "production")
#: Banks offered by the auth dialog: the mock bank exists on the emulator and the sandbox.
PROVIDERS = {
    "emulator": "uk-cs-mock",
    "sandbox": "uk-cs-mock uk-ob-all uk-oauth-all",
    "production": "uk-ob-all uk-oauth-all",
}


def choose_target(parser: argparse.ArgumentParser) -> str:
    """``$TRUELAYER_ENVIRONMENT`` (default emulator); TrueLayer needs the credentials."""
    target = os.environ.get("TRUELAYER_ENVIRONMENT") or "emulator"
    if target not in TARGETS:
        parser.error(f"TRUELAYER_ENVIRONMENT must be one of {', '.join(TARGETS)}, not {target!r}")
    if target != "emulator" and not (
        os.environ.get("TRUELAYER_CLIENT_ID") and os.environ.get("TRUELAYER_CLIENT_SECRET")
    ):
        parser.error(f"{target} needs TRUELAYER_CLIENT_ID and TRUELAYER_CLIENT_SECRET")
    return target


def cannot_listen(
    parser: argparse.ArgumentParser, address: str, exc: OSError, hint: str
) -> NoReturn:
    """One line on stderr, exit code 1: a busy port is not a bug worth a traceback."""
    why = os.strerror(exc.errno) if exc.errno else str(exc)
    parser.exit(1, f"{parser.prog}: error: cannot listen on {address} ({why}): {hint}\n")


def listen(parser: argparse.ArgumentParser, host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` for the app."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host.strip("[]"), port), family=family)
    except OSError as exc:
        cannot_listen(parser, f"{host}:{port}", exc, "choose another --port (0: any)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="default 8000; 0: any free port")
    parser.add_argument(
        "--emulator-port", type=int, default=0, help="the emulator's port (default: any free)"
    )
    args = parser.parse_args(argv)
    target = choose_target(parser)

    sock = listen(parser, args.host, args.port)
    with sock, ExitStack() as stack:
        app_url = f"http://{args.host}:{sock.getsockname()[1]}"
        redirect_uri = f"{app_url}/callback"
        if target == "emulator":
            fake = FakeTrueLayer()
            fake.register_client(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, [redirect_uri])
            try:
                emulator_url = stack.enter_context(
                    fake.serve_in_thread(args.host, args.emulator_port)
                )
            except OSError as exc:
                address = f"{args.host}:{args.emulator_port}"
                cannot_listen(parser, address, exc, "choose another --emulator-port (0: any)")
            except ValueError:  # not a loopback host
                parser.exit(1, f"{parser.prog}: error: the emulator serves on loopback only\n")
            print(f"TrueLayer emulator on {emulator_url} (mock bank login: john / doe)")
            client_id, client_secret = DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
            environment = fake.environment
        else:
            redirect_uri = os.environ.get("TRUELAYER_REDIRECT_URI") or redirect_uri
            client_id = os.environ["TRUELAYER_CLIENT_ID"]
            client_secret = os.environ["TRUELAYER_CLIENT_SECRET"]
            environment = getattr(tla.Environment, target.upper())

        def session_factory() -> tla.Session:
            return tla.Session(
                client_id, client_secret, redirect_uri=redirect_uri, environment=environment
            )

        app = create_app(session_factory, providers=PROVIDERS[target])
        print(f"open {app_url}/ in a browser (target: {target})", flush=True)
        uvicorn.Server(uvicorn.Config(app, log_level="info")).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has already shut the app down
        sys.exit(130)
