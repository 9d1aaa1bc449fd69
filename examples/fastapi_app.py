"""A FastAPI backend that connects its users' bank accounts and shows their data.

* One ``Session`` lives as long as the app: it is opened and closed by the lifespan handler
  and shared by every request (it is safe for concurrent use on one event loop).
* ``/login`` builds the auth link (PKCE) and keeps the ``state`` and the code verifier on
  the server, keyed by a per-browser session cookie; the browser only sees the link.
* ``/callback`` checks the state and exchanges the code for *that* browser's user.
* ``/accounts`` and ``/transactions`` show the user's data; tokens are stored per user
  (memory by default, or a SQLite file with ``--store``) and refreshed when needed.

Run it against the emulator (default; the emulator is served too, so a browser can click
through the mock bank) and open http://127.0.0.1:8000/::

    python examples/fastapi_app.py                 # log in as john / doe
    python examples/fastapi_app.py --smoke-test    # walk the flow with HTTP and exit

With ``TRUELAYER_CLIENT_ID``/``TRUELAYER_CLIENT_SECRET`` set it talks to TrueLayer; register
``http://127.0.0.1:8000/callback`` (or ``TRUELAYER_REDIRECT_URI``) for your client.
Tests build the app with ``create_app(session_factory)``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import date, timedelta
from html import escape
from typing import Any

import anyio
import attrs
import uvicorn
from _common import PROVIDERS, real_api_requested, real_session
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

import truelayer_async as tla
from truelayer_async.models import AccountBalance

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
 header {{ display: flex; gap: 1rem; align-items: baseline; border-bottom: 1px solid #dde;
          margin-bottom: 1rem; }}
 header strong {{ margin-right: auto; }}
 table {{ border-collapse: collapse; width: 100%; }}
 th, td {{ text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #eef; }}
 td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
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
    secure_cookies: bool = False,
    days: int = 90,
) -> FastAPI:
    """The app. ``session_factory`` makes the Session that the lifespan opens and closes;
    its ``redirect_uri`` must be this app's ``/callback`` as registered at TrueLayer."""
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
        link = tl.auth.auth_link(scopes=tla.DATA_SCOPES, pkce=True, providers=PROVIDERS)
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
            f'<td><a href="/transactions?account_id={escape(a.account_id)}">'
            f"{escape(a.display_name)}</a></td>"
            f"<td>{escape(str(a.account_type or '-'))}</td>"
            f"<td>{escape(a.account_number.sort_code or '')} "
            f"{escape(a.account_number.number or '')}</td>"
            f'<td class="num">{balances[a.account_id].current:,} {escape(a.currency)}</td>'
            f'<td class="num">{_opt(balances[a.account_id].available)} {escape(a.currency)}</td>'
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
            f'<tr class="transaction"><td>{t.timestamp:%Y-%m-%d}</td>'
            f"<td>{escape(t.merchant_name or t.description)}</td>"
            f"<td>{escape(str(t.transaction_category))}</td>"
            f'<td class="num">{t.amount:,} {escape(t.currency)}</td></tr>'
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


@contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve an ASGI app (lifespan on) with uvicorn on a background thread; yields its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.01)
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def emulator_app(host: str, port: int, emulator_port: int = 0) -> Iterator[tuple[FastAPI, str]]:
    """The app wired to an emulator served on loopback; yields (app, emulator URL).

    The emulator accepts the app's ``/callback`` as a redirect URI for the default client.
    """
    from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeTrueLayer

    fake = FakeTrueLayer()
    redirect_uri = f"http://{host}:{port}/callback"
    fake.register_client(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, [redirect_uri])
    with fake.serve_in_thread(host, emulator_port) as emulator_url:
        environment = fake.environment

        def session_factory() -> tla.Session:
            return tla.Session(
                DEFAULT_CLIENT_ID,
                DEFAULT_CLIENT_SECRET,
                redirect_uri=redirect_uri,
                environment=environment,
            )

        yield create_app(session_factory), emulator_url


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


async def smoke_test(app_url: str) -> None:
    """Click through the app with HTTP requests, as a browser would."""
    import httpx

    from truelayer_async.testing import complete_consent

    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as client:
        response = await client.get(f"{app_url}/login")
        assert response.status_code == 303, response.status_code
        auth_link = response.headers["location"]
        print(f"/login -> auth link at {auth_link.split('?')[0]}")
        result = await complete_consent(client, auth_link, username="john", password="doe")
        print(f"consent approved -> {result.redirect_url.split('?')[0]}")
        response = await client.get(result.redirect_url)
        assert response.status_code == 303, response.text
        print(f"/callback -> {response.headers['location']}")
        response = await client.get(f"{app_url}/accounts")
        assert response.status_code == 200, response.text
        print("/accounts -> 200")
        for name in ("Everyday Current", "Rainy Day Saver"):
            if name in response.text:
                print(f"  shows account: {name}")
        account_id = response.text.split('data-account-id="', 1)[1].split('"', 1)[0]
        response = await client.get(f"{app_url}/transactions", params={"account_id": account_id})
        assert response.status_code == 200, response.text
        count = response.text.count('class="transaction"')
        print(f"/transactions -> {count} transactions")
    print("smoke test passed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--emulator-port", type=int, default=8765, help="emulator port (0: any free port)"
    )
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="serve on free ports, walk /login -> bank -> /accounts with HTTP, then exit",
    )
    args = parser.parse_args(argv)

    if real_api_requested():
        redirect_uri = os.environ.get(
            "TRUELAYER_REDIRECT_URI", f"http://{args.host}:{args.port}/callback"
        )
        app = create_app(lambda: real_session(redirect_uri=redirect_uri))
        uvicorn.run(app, host=args.host, port=args.port)
        return 0

    if args.smoke_test:
        port = free_port(args.host)
        with emulator_app(args.host, port, 0) as (app, emulator_url):
            print(f"emulator on {emulator_url}")
            with serve_in_thread(app, args.host, port) as app_url:
                print(f"app on {app_url}")
                anyio.run(smoke_test, app_url)
        return 0

    with emulator_app(args.host, args.port, args.emulator_port) as (app, emulator_url):
        print(f"TrueLayer emulator on {emulator_url} (mock bank login: john / doe)")
        print(f"open http://{args.host}:{args.port}/ in a browser")
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
