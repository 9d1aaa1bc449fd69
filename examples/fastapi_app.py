"""A FastAPI backend that connects its users' bank accounts and shows their data.

* One ``Session`` lives as long as the app: it is opened and closed by the lifespan handler
  and shared by every request (it is safe for concurrent use on one event loop).
* ``/login`` builds the auth link (PKCE) and keeps the ``state`` and the code verifier on
  the server, keyed by a per-browser session cookie; the browser only sees the link.
* ``/callback`` checks the state and exchanges the code for *that* browser's user.
* ``/accounts`` and ``/transactions`` show the user's data (readable on a phone too);
  tokens are kept per user in the Session's token store (memory) and refreshed when needed.
* ``/checkout`` sells one product: "Pay" creates a payment into your merchant account and
  sends the browser to TrueLayer's hosted payment page, which returns to
  ``/checkout/return``; ``/orders/{payment_id}`` shows the payment's status (refreshing
  until it is final) and the payment webhooks ``/webhooks/truelayer`` received for it.

Where it runs is chosen by ``TRUELAYER_ENVIRONMENT``, never by which variables are set:

* ``emulator`` (the default): the emulator is served on a free loopback port next to the
  app, on real time, so a browser can click through the mock bank (log in as john / doe;
  pay as ``test_executed``) and the emulator's signed webhooks reach the app::

      python examples/fastapi_app.py          # then open http://127.0.0.1:8000/

* ``sandbox`` or ``production``: TrueLayer, with ``TRUELAYER_CLIENT_ID`` and
  ``TRUELAYER_CLIENT_SECRET``; register ``http://127.0.0.1:8000/callback`` (or set
  ``TRUELAYER_REDIRECT_URI``) as a redirect URI of your client. The checkout also needs
  ``TRUELAYER_SIGNING_KEY_ID`` and ``TRUELAYER_SIGNING_KEY_FILE`` (your P-521 private key,
  PEM), ``http://127.0.0.1:8000/checkout/return`` allowed as a return URI, and pays into
  ``TRUELAYER_MERCHANT_ACCOUNT_ID`` (default: your first GBP merchant account). Webhooks
  reach ``/webhooks/truelayer`` only through a public URL (a tunnel) set in Console.

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
from datetime import date, datetime, timedelta, timezone
from html import escape
from pathlib import Path
from typing import Any, NoReturn

import anyio
import attrs
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

import truelayer_async as tla
from truelayer_async.models import (
    AccountBalance,
    BankTransfer,
    HostedPageOptions,
    MerchantAccountBeneficiary,
    Payment,
    PaymentUser,
    ProviderFilter,
    UserSelectedProvider,
    is_final,
)
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FakeTrueLayer,
    LiveClock,
)
from truelayer_async.webhooks import Event, WebhookEndpoint

COOKIE = "tl_example_sid"
PENDING_TTL = 600.0  # seconds a started login may take
PRODUCT = "truelayer_async mug"
PRICE_IN_MINOR = 1250  # £12.50
WEBHOOK_PATH = "/webhooks/truelayer"
#: Seconds the order page keeps refreshing after a final status, for its webhook to arrive.
WEBHOOK_GRACE = 10.0


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


@attrs.define
class WebhookNote:
    """One payment webhook as the order page lists it."""

    type: str
    received: datetime
    detail: str = ""


@attrs.define
class Order:
    """A checkout: the payment made for one browser and the webhooks heard about it.

    A real shop would keep orders in its database and update them from the webhooks.
    """

    payment_id: str
    browser_sid: str
    webhooks: list[WebhookNote] = attrs.field(factory=list)
    event_ids: set[str] = attrs.field(factory=set)
    final_since: float | None = None  # when the page first saw a final status

    def record(self, event: Event) -> None:
        """Note a webhook once: TrueLayer delivers at least once, so drop repeats by id."""
        if event.event_id in self.event_ids:
            return
        self.event_ids.add(event.event_id)
        detail = getattr(event, "failure_reason", None) or ""
        self.webhooks.append(WebhookNote(event.type, datetime.now(timezone.utc), detail))

    def heard(self, status: str) -> bool:
        """Whether the webhook for ``status`` (``payment_settled``…) has arrived."""
        return any(note.type == f"payment_{status}" for note in self.webhooks)


class LifespanWebhooks:
    """The ASGI app at ``/webhooks/truelayer``: the Session's webhook endpoint (verify,
    parse, call the handler), made by the lifespan once the Session is open."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        endpoint: WebhookEndpoint = scope["app"].state.webhooks
        await endpoint(scope, receive, send)


def page(title: str, body: str, *, status: int = 200, refresh: int | None = None) -> HTMLResponse:
    head = "" if refresh is None else f'\n<meta http-equiv="refresh" content="{refresh}">'
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>{head}
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
 a.button, button {{ display: inline-block; font: inherit; border: 0; cursor: pointer;
            padding: .5rem 1rem; background: #1d4ed8; color: white;
            border-radius: .3rem; text-decoration: none; }}
</style></head>
<body><header><strong>truelayer_async · FastAPI example</strong>
<a href="/">Home</a><a href="/accounts">Accounts</a><a href="/checkout">Checkout</a>
</header>
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
    merchant_account_id: str | None = None,
) -> FastAPI:
    """The app. ``session_factory`` makes the Session that the lifespan opens and closes;
    its ``redirect_uri`` must be this app's ``/callback`` as registered at TrueLayer.
    ``providers`` are the banks offered by the auth dialog. The checkout pays into
    ``merchant_account_id`` (default: the client's first GBP merchant account)."""
    browsers: dict[str, BrowserSession] = {}
    orders: dict[str, Order] = {}  # by payment id

    async def on_webhook(event: Event) -> None:
        """Called by the SDK for each verified webhook; answering 200 follows its return."""
        order = orders.get(getattr(event, "payment_id", None) or "")
        if order is not None:  # others (refunds, another app's payments) are not ours
            order.record(event)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with session_factory() as tl:
            app.state.tl = tl
            app.state.webhooks = tl.webhooks.asgi_app(on_webhook)
            yield

    app = FastAPI(lifespan=lifespan, title="truelayer_async example")
    app.add_route(WEBHOOK_PATH, LifespanWebhooks(), methods=["POST"])

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
        body += f'<p>Or <a href="/checkout">buy a {escape(PRODUCT)}</a> by bank transfer.</p>'
        return page("Welcome", body)

    def browser_or_new(request: Request) -> tuple[str, BrowserSession]:
        found = browser_of(request)
        if found is None:
            found = secrets.token_urlsafe(24), BrowserSession()
            browsers[found[0]] = found[1]
        return found

    @app.get("/login")
    async def login(request: Request) -> Response:
        sid, browser = browser_or_new(request)
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

    # -- the checkout: a payment through the hosted page, followed by webhooks ----------

    found_accounts: dict[str, str] = {}  # currency -> merchant account id, looked up once

    async def merchant_account(tl: tla.Session, currency: str = "GBP") -> str:
        if merchant_account_id is not None:
            return merchant_account_id
        if currency not in found_accounts:
            ids = [a.id for a in await tl.merchant_accounts.list() if a.currency == currency]
            if not ids:
                raise LookupError(
                    f"no {currency} merchant account: set TRUELAYER_MERCHANT_ACCOUNT_ID"
                )
            found_accounts[currency] = ids[0]
        return found_accounts[currency]

    def no_such_order() -> Response:
        return page("No such order", '<p><a href="/checkout">Back to the shop</a></p>', status=404)

    @app.get("/checkout", response_class=HTMLResponse)
    async def checkout() -> Response:
        body = (
            f'<p id="product">One {escape(PRODUCT)}: <strong>{money(PRICE_IN_MINOR)}</strong></p>'
            '<form method="post" action="/checkout">'
            f'<button id="pay" type="submit">Pay {money(PRICE_IN_MINOR)}</button></form>'
            '<p class="muted">You pick your bank and approve the payment on TrueLayer\'s '
            "payment page.</p>"
        )
        return page("Checkout", body)

    @app.post("/checkout")
    async def pay(request: Request) -> Response:
        sid, _ = browser_or_new(request)
        tl = tl_of(request)
        return_uri = str(request.url_for("checkout_return"))
        try:
            created = await tl.payments.create(
                amount_in_minor=PRICE_IN_MINOR,
                currency="GBP",
                payment_method=BankTransfer(
                    provider_selection=UserSelectedProvider(
                        filter=ProviderFilter(countries=["GB"])
                    ),
                    beneficiary=MerchantAccountBeneficiary(
                        merchant_account_id=await merchant_account(tl),
                        reference="truelayer-async shop",
                    ),
                ),
                user=PaymentUser(name="Jane Doe", email="jane@example.com"),
                hosted_page=HostedPageOptions(return_uri=return_uri),
                metadata={"product": PRODUCT},
            )
        except tla.ConfigurationError as exc:  # no signing key on this Session
            return page(
                "Payments are not set up", f'<p class="error">{escape(str(exc))}</p>', status=503
            )
        except (tla.PaymentsApiError, LookupError) as exc:
            return page(
                "Payment not started", f'<p class="error">{escape(str(exc))}</p>', status=502
            )
        orders[created.id] = Order(created.id, sid)
        # The link carries the payment's resource token: it goes to the browser, never to a log.
        uri = (
            created.hosted_page.uri
            if created.hosted_page
            else tl.hosted_page.payment_url(
                payment_id=created.id,
                resource_token=created.resource_token,
                return_uri=return_uri,
            )
        )
        return with_cookie(RedirectResponse(uri, status_code=303), sid)

    @app.get("/checkout/return", name="checkout_return")
    async def checkout_return(payment_id: str = "") -> Response:
        """Where the hosted page sends the browser back (``?payment_id=…``)."""
        if payment_id not in orders:
            return no_such_order()
        return RedirectResponse(f"/orders/{payment_id}", status_code=303)

    @app.get("/orders/{payment_id}", response_class=HTMLResponse)
    async def order_page(request: Request, payment_id: str) -> Response:
        found = browser_of(request)
        order = orders.get(payment_id)
        if order is None or found is None or found[0] != order.browser_sid:
            return no_such_order()  # only the browser that paid sees its order
        try:
            payment = await tl_of(request).payments.get(payment_id)
        except tla.PaymentsApiError as exc:
            return page("Payment unknown", f'<p class="error">{escape(str(exc))}</p>', status=502)
        watching = still_watching(order, payment)
        return page(
            "Your order",
            order_body(order, payment, watching),
            refresh=1 if watching else None,
        )

    return app


def still_watching(order: Order, payment: Payment) -> bool:
    """Whether the order page should refresh: until the status is final and its webhook
    has arrived (or ``WEBHOOK_GRACE`` seconds later: TrueLayer may not reach this app)."""
    if not is_final(payment):
        return True
    if order.final_since is None:
        order.final_since = time.monotonic()
    return not order.heard(payment.status) and (
        time.monotonic() - order.final_since < WEBHOOK_GRACE
    )


def order_body(order: Order, payment: Payment, watching: bool) -> str:
    """The order page: the payment's status from the API and the webhooks received."""
    reason = getattr(payment, "failure_reason", None)
    why = f' (<span id="failure-reason">{escape(reason)}</span>)' if reason else ""
    notes = "\n".join(
        f'<tr class="webhook-event" data-type="{escape(n.type)}">'
        f'<td data-label="Time">{n.received:%H:%M:%S}</td>'
        f'<td data-label="Event">{escape(n.type)}</td>'
        f'<td data-label="Detail">{escape(n.detail)}</td></tr>'
        for n in order.webhooks
    )
    footer = (
        '<p class="muted" id="watching">Refreshing until the payment is final…</p>'
        if watching
        else '<p class="muted" id="done">This payment will not change any more. '
        '<a href="/checkout">Buy another</a></p>'
    )
    return (
        f"<p>{escape(PRODUCT)}, {money(PRICE_IN_MINOR)}: payment "
        f'<code id="payment-id">{escape(payment.id)}</code> is '
        f'<strong id="payment-status">{escape(payment.status)}</strong>{why}.</p>'
        f"<h2>Webhooks received</h2>"
        '<table id="webhook-events"><thead><tr><th>Time</th><th>Event</th><th>Detail</th>'
        f"</tr></thead><tbody>{notes}</tbody></table>{footer}"
    )


def money(amount_in_minor: int) -> str:
    pounds, pence = divmod(amount_in_minor, 100)
    return f"£{pounds:,}.{pence:02d}"


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
#: The emulator takes any merchant account id: the shop's pretend account.
EMULATOR_MERCHANT_ACCOUNT = "5b7adbfa-3fbc-4a2b-8b8c-6d6e3c9b1f21"


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


def signing_key(parser: argparse.ArgumentParser) -> tuple[str | None, str | None]:
    """``TRUELAYER_SIGNING_KEY_ID`` and the PEM in ``TRUELAYER_SIGNING_KEY_FILE`` (both or
    neither: without them the app runs, and its checkout says payments are not set up)."""
    key_id = os.environ.get("TRUELAYER_SIGNING_KEY_ID") or None
    key_file = os.environ.get("TRUELAYER_SIGNING_KEY_FILE") or None
    if (key_id is None) != (key_file is None):
        parser.error(
            "set both TRUELAYER_SIGNING_KEY_ID and TRUELAYER_SIGNING_KEY_FILE, or neither"
        )
    if key_file is None:
        return None, None
    try:
        return key_id, Path(key_file).read_text(encoding="utf-8")
    except OSError as exc:
        parser.error(f"cannot read TRUELAYER_SIGNING_KEY_FILE {key_file!r}: {exc.strerror}")


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
            # Real time, so payments move on by themselves and their webhooks go out.
            fake = FakeTrueLayer(clock=LiveClock())
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
            fake.set_webhook_uri(app_url + WEBHOOK_PATH)  # its signed payment webhooks
            client_id, client_secret = DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
            environment = fake.environment
            key_id, private_key = fake.client_signing_key  # registered with the emulator
            merchant_account_id: str | None = EMULATOR_MERCHANT_ACCOUNT
        else:
            redirect_uri = os.environ.get("TRUELAYER_REDIRECT_URI") or redirect_uri
            client_id = os.environ["TRUELAYER_CLIENT_ID"]
            client_secret = os.environ["TRUELAYER_CLIENT_SECRET"]
            environment = getattr(tla.Environment, target.upper())
            key_id, private_key = signing_key(parser)
            merchant_account_id = os.environ.get("TRUELAYER_MERCHANT_ACCOUNT_ID") or None

        def session_factory() -> tla.Session:
            return tla.Session(
                client_id,
                client_secret,
                redirect_uri=redirect_uri,
                environment=environment,
                signing_key_id=key_id,
                signing_private_key=private_key,
            )

        try:  # a bad signing key is told now, not as a traceback at startup
            session_factory()  # sends nothing: a Session connects on first use
        except tla.ConfigurationError as exc:
            parser.error(str(exc))
        app = create_app(
            session_factory,
            providers=PROVIDERS[target],
            merchant_account_id=merchant_account_id,
        )
        print(f"open {app_url}/ in a browser (target: {target})", flush=True)
        uvicorn.Server(uvicorn.Config(app, log_level="info")).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has already shut the app down
        sys.exit(130)
