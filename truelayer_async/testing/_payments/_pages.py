"""HTML pages: the hosted payment page (HPP), the mock bank, and opening a payment link.

Stable hooks for browser tests and HTTP-walking clients:

* ``GET /hpp/payments`` reads ``payment_id``, ``resource_token``, ``return_uri`` (and
  ``max_wait_for_result``) from the URL *fragment* with a little script and POSTs them
  (``<form id="hpp-start">``) to ``POST /hpp/payments``, which checks the token and
  answers 303 to ``/hpp/payments/{session}``: a provider list,
  ``<button name="provider_id" value="{id}" id="provider-{id}">`` in
  ``<form id="provider-form">``. Choosing one starts the payment's authorization flow
  (scheme and branch picked automatically) and answers 303 to the bank page.
* ``/mock-bank/payments/{session}``: ``<form id="bank-form">`` with
  ``<input name="username" id="username">`` (``test_executed``,
  ``test_authorisation_failed``, ``test_execution_rejected``), optional
  ``execution_delay``/``settlement_delay`` (seconds), ``<button id="authorise"
  name="action" value="authorise">`` and ``<button id="cancel" name="action"
  value="cancel">``. It answers 303 to the return URI with ``payment_id`` appended to its
  query (``direct_return_uri``: ``state`` = the bank session instead, for
  ``/v3/payments-provider-return``); an unknown username shows ``<p id="bank-error">``.
* ``GET /links/{id}``: creates a payment from the link and answers 303 to the HPP.
* Every page: ``<body data-step="hpp-start|hpp-providers|bank|result|error">``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .. import _html
from .._dialog import redirect_with
from ._api import PaymentsApi
from ._flow import apply_action, choose_provider, next_action, offered
from ._problems import PaymentsProblem
from ._providers import Provider, find
from ._records import Payment
from ._return_uris import PAGE_REFUSAL, allowed
from ._routes import hosted_page_uri, start_flow
from ._store import USERNAMES

__all__ = ["BANK_PATH", "result_uri", "resume", "routes"]

#: The mock bank's payment pages (relative: the hosted page is on the same origin).
BANK_PATH = "/mock-bank/payments"
#: The emulator's own result page: where the user ends when no ``return_uri`` was given.
RESULT_PATH = "/hpp/result"

_FRAGMENT_SCRIPT = """
(function () {
  var params = new URLSearchParams(window.location.hash.slice(1));
  var form = document.getElementById('%s');
  %s.forEach(function (n) {
    if (params.get(n) !== null) { form.elements[n].value = params.get(n); }
  });
  history.replaceState(null, '', window.location.pathname);
  form.submit();
})();
"""


def fragment_form(form_id: str, action: str, names: tuple[str, ...]) -> str:
    """A form of hidden ``names`` that a script fills from the URL fragment and submits
    (POST to ``action``): hosted pages keep their parameters out of server logs."""
    fields = "".join(hidden(n) for n in names)
    script = _FRAGMENT_SCRIPT % (form_id, json.dumps(list(names)))
    return (
        f'<form id="{form_id}" method="post" action="{action}">{fields}'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        f"<script>{script}</script>"
    )


def token_names(api: PaymentsApi, token: str, id_name: str, ident: str) -> bool:
    """Whether ``token`` is a live resource token for ``ident`` (its ``id_name`` claim);
    call with ``api.state.lock`` held."""
    claims = api.state.signer.read(token)
    return (
        claims is not None and claims.get(id_name) == ident and claims["exp"] > api.state.clock()
    )


def page(step: str, title: str, body: str) -> HTMLResponse:
    return HTMLResponse(_html._page(step, title, body))


def result_page(kind: str, resource_id: str, status: str) -> HTMLResponse:
    """Where a hosted page lands once its resource (``kind``: ``payment``, ``payout``,
    ``mandate``) is past the user's part: ``#<kind>-id`` is ``#<kind>-status``."""
    body = (
        f'<p>{kind.capitalize()} <code id="{kind}-id">{escape(resource_id)}</code> is '
        f'<strong id="{kind}-status">{escape(status)}</strong>.</p>'
    )
    return page("result", f"{kind.capitalize()} status", body)


def result_uri(request: Request) -> str:
    """The emulator's own result page at the origin ``request`` came to."""
    return str(request.base_url).rstrip("/") + RESULT_PATH


def error_page(status: int, description: str) -> HTMLResponse:
    body = f'<p id="error-description">{escape(description)}</p>'
    return HTMLResponse(_html._page("error", "Something went wrong", body), status)


def hidden(name: str) -> str:
    return f'<input type="hidden" name="{name}" id="{name}">'


def routes(api: PaymentsApi) -> list[BaseRoute]:
    """The HPP, mock bank and payment-link routes."""
    store = api.store

    async def hpp(request: Request) -> Response:
        names = ("payment_id", "resource_token", "return_uri", "max_wait_for_result")
        body = fragment_form("hpp-start", "/hpp/payments", names)
        return page("hpp-start", "Loading your payment", body)

    async def hpp_start(request: Request) -> Response:
        form = await request.form()
        payment_id = str(form.get("payment_id") or "")
        token = str(form.get("resource_token") or "")
        return_uri = str(form.get("return_uri") or "")
        with api.state.lock:
            if not token_names(api, token, "payment_id", payment_id):
                return error_page(401, "The payment link is invalid or has expired.")
            if not return_uri:
                return error_page(400, "The return_uri parameter is missing.")
            payment = store.find(payment_id)
            own = return_uri == result_uri(request)  # a link's
            if payment and not own and not allowed(api, payment.client_id, return_uri):
                return error_page(400, PAGE_REFUSAL)
            session = secrets.token_urlsafe(16)
            store.hpp_sessions[session] = (payment_id, return_uri)
        return RedirectResponse(f"/hpp/payments/{session}", 303)

    def _session(request: Request) -> tuple[Payment, str] | None:
        found = store.hpp_sessions.get(request.path_params["session"])
        if found is None:
            return None
        payment = store.find(found[0])
        return (payment, found[1]) if payment is not None else None

    async def hpp_providers(request: Request) -> Response:
        with api.state.lock:
            found = _session(request)
            if found is None:
                return error_page(404, "This payment page has expired.")
            payment, _ = found
            providers: Sequence[Provider | None]
            if _mid_authorization(payment):
                resumed = resume(payment)
                if resumed is not None:
                    return resumed
                providers = offered(payment)  # the flow's provider_selection step
            elif payment.status != "authorization_required" or payment.flow is not None:
                return result_page("payment", payment.id, payment.status)
            else:
                providers = (
                    [find(payment.provider_id)]
                    if payment.provider_id
                    else offered_for_hpp(payment)
                )
        buttons = "\n".join(
            f'<button type="submit" name="provider_id" value="{escape(p.id)}" '
            f'id="provider-{escape(p.id)}">{escape(p.display_name)}</button>'
            for p in providers
            if p is not None
        )
        amount = f"{payment.amount_in_minor / 100:.2f} {payment.currency}"
        body = (
            f'<p id="amount">{escape(amount)}</p>'
            f'<form id="provider-form" method="post">{buttons}</form>'
        )
        return page("hpp-providers", "Pay by bank", body)

    async def hpp_choose(request: Request) -> Response:
        form = await request.form()
        provider_id = str(form.get("provider_id") or "")
        with api.state.lock:
            found = _session(request)
            if found is None:
                return error_page(404, "This payment page has expired.")
            payment, return_uri = found
            if find(provider_id) is None:
                return error_page(400, "Unknown provider.")
            try:
                if _mid_authorization(payment):  # a flow started elsewhere: its next step
                    choice = {"provider_id": provider_id}
                    apply_action(payment, "provider-selection", choice, BANK_PATH)
                    assert payment.flow is not None
                    payment.flow.setdefault("redirect", {"return_uri": return_uri})
                else:
                    start_flow(
                        api,
                        payment,
                        {
                            "provider_selection": {},
                            "redirect": {"return_uri": return_uri},
                            "form": {"input_types": ["select"]},
                        },
                    )
                    choose_provider(payment, provider_id)
                    payment.bank_session = secrets.token_urlsafe(16)
            except PaymentsProblem as exc:
                return error_page(400, exc.detail)
            resumed = resume(payment)
        return resumed or error_page(400, "The payment cannot be authorised now.")

    def _bank_payment(request: Request) -> Payment | None:
        session = request.path_params["session"]
        return next((p for p in store.payments.values() if p.bank_session == session), None)

    async def bank_page(request: Request) -> Response:
        with api.state.lock:
            payment = _bank_payment(request)
            if payment is None:
                return error_page(404, "Unknown bank session.")
            if payment.outcome is not None:
                return result_page("payment", payment.id, payment.status)
            return _bank_form(payment, error=None)

    async def bank_submit(request: Request) -> Response:
        form = await request.form()
        with api.state.lock:
            payment = _bank_payment(request)
            if payment is None:
                return error_page(404, "Unknown bank session.")
            if payment.outcome is not None or payment.status != "authorizing":
                return result_page("payment", payment.id, payment.status)
            if form.get("action") == "cancel":
                outcome = "canceled"
            else:
                username = str(form.get("username") or "")
                if username not in USERNAMES:
                    return _bank_form(payment, error=f"Unknown sandbox user {username!r}.")
                outcome = USERNAMES[username]
            delays: dict[str, Any] = {}
            for name in ("execution_delay", "settlement_delay"):
                value = str(form.get(name) or "").strip()
                if value:
                    try:
                        delays[name] = max(0.0, float(value))
                    except ValueError:
                        return _bank_form(payment, error=f"{name} must be a number of seconds.")
            store.decide(payment, outcome, **delays)  # type: ignore[arg-type]
            return RedirectResponse(_return_uri(api, payment, request), 303)

    async def open_link(request: Request) -> Response:
        with api.state.lock:
            store.tick()
            link = store.links.get(request.path_params["id"])
            if link is None:
                return error_page(404, "Unknown payment link.")
            if link.status != "enabled":
                return error_page(410, f"This payment link is {link.status}.")
            payment = store.pay_link(link)
            token = api.resource_token(payment)
            base = str(request.base_url).rstrip("/")
            return_uri = link.return_uri or result_uri(request)
        uri = hosted_page_uri(base, payment.id, token, {"return_uri": return_uri})
        return RedirectResponse(uri, 303)

    async def result(request: Request) -> Response:
        with api.state.lock:
            payment = store.find(request.query_params.get("payment_id", ""))
            if payment is None:
                return error_page(404, "Unknown payment.")
            return result_page("payment", payment.id, payment.status)

    return [
        Route("/hpp/payments", hpp, methods=["GET"]),
        Route("/hpp/payments", hpp_start, methods=["POST"]),
        Route("/hpp/payments/{session}", hpp_providers, methods=["GET"]),
        Route("/hpp/payments/{session}", hpp_choose, methods=["POST"]),
        Route(RESULT_PATH, result, methods=["GET"]),
        Route("/mock-bank/payments/{session}", bank_page, methods=["GET"]),
        Route("/mock-bank/payments/{session}", bank_submit, methods=["POST"]),
        Route("/links/{id}", open_link, methods=["GET"]),
    ]


def _mid_authorization(payment: Payment) -> bool:
    return payment.status == "authorizing" and payment.flow is not None


def resume(payment: Payment) -> Response | None:
    """Take the user to the step an ``authorizing`` payment is at, as the real hosted page
    does when they come back to it: the steps the page answers itself (scheme, branch,
    consent) are answered, then the bank; the payment's result once the bank has
    answered. ``None`` while a provider is still to be chosen (show the list)."""
    provider = find(payment.provider_id) if payment.provider_id else None
    if provider is not None:
        if payment.scheme_id is None:
            payment.scheme_id = provider.schemes[0]
        if provider.branches and payment.form_inputs is None:
            payment.form_inputs = {"branch": provider.branches[0][0]}
        payment.consented = True  # the hosted page shows the consent itself
    action = next_action(payment, BANK_PATH)
    if action is not None and action["type"] == "provider_selection":
        return None
    if action is not None and action["type"] == "redirect":
        return RedirectResponse(str(action["uri"]), 303)
    return result_page("payment", payment.id, payment.status)


def offered_for_hpp(payment: Payment) -> list[Any]:
    """Providers the HPP lists (it can render forms)."""
    payment.flow = {"form": {"input_types": ["select"]}}
    try:
        return list(offered(payment))
    finally:
        payment.flow = None


def _bank_form(payment: Payment, *, error: str | None) -> HTMLResponse:
    provider = find(payment.provider_id or "")
    name = provider.display_name if provider else "Mock bank"
    amount = f"{payment.amount_in_minor / 100:.2f} {payment.currency}"
    problem = f'<p id="bank-error" class="error">{escape(error)}</p>' if error else ""
    body = (
        f'<p id="amount">Pay {escape(amount)}</p>{problem}'
        '<form id="bank-form" method="post">'
        '<label for="username">Username</label>'
        '<input name="username" id="username" value="test_executed">'
        '<label for="execution_delay">Execution delay (seconds, optional)</label>'
        '<input name="execution_delay" id="execution_delay">'
        '<label for="settlement_delay">Settlement delay (seconds, optional)</label>'
        '<input name="settlement_delay" id="settlement_delay">'
        '<button type="submit" name="action" value="authorise" id="authorise">Authorise</button>'
        '<button type="submit" name="action" value="cancel" id="cancel">Cancel</button>'
        "</form>"
    )
    return HTMLResponse(_html._page("bank", name, body))


def _return_uri(api: PaymentsApi, payment: Payment, request: Request) -> str:
    """Where the bank sends the user back: the HPP's or the flow's ``return_uri`` with
    ``payment_id``, or ``direct_return_uri`` with ``state``."""
    redirect = (payment.flow or {}).get("redirect") or {}
    direct = redirect.get("direct_return_uri")
    if direct:
        return redirect_with(str(direct), {"state": payment.bank_session or ""})
    uri = redirect.get("return_uri") or result_uri(request)
    return redirect_with(str(uri), {"payment_id": payment.id})
