"""The payouts hosted page (HP2): the user picks the account a verified
(``user_determined``) payout goes to.

* ``GET /hpp/payouts`` reads ``payout_id``, ``resource_token`` and ``return_uri`` from the
  URL fragment and POSTs them (``<form id="hp2-start">``) to ``POST /hpp/payouts``, which
  checks the token, starts the payout's flow and answers 303 to ``/hpp/payouts/{session}``
  (the ``redirect`` of ``POST /v3/payouts/{id}/authorization-flow`` points there too).
* ``/hpp/payouts/{session}``: ``<form id="payout-form">`` showing the mock user's account
  with ``<button id="authorise" name="action" value="authorise">`` (the payout goes to
  ``pending`` and on) and ``<button id="reject" name="action" value="reject">`` (the flow
  completes with ``account_not_valid``, the payout fails). It answers 303 to the return
  URI with ``payout_id`` appended. Pages: ``data-step="hp2-start|hp2-account|result|error"``.
"""

from __future__ import annotations

import secrets
from html import escape

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .._dialog import redirect_with
from ._api import PaymentsApi
from ._pages import error_page, fragment_form, page, result_page, result_uri, token_names
from ._payouts import PAYER_ACCOUNT, Payout
from ._return_uris import PAGE_REFUSAL, allowed

__all__ = ["routes"]


def routes(api: PaymentsApi) -> list[BaseRoute]:
    """The payouts hosted page's routes."""
    payouts = api.payouts

    async def start_page(request: Request) -> Response:
        names = ("payout_id", "resource_token", "return_uri")
        return page(
            "hp2-start", "Loading your payout", fragment_form("hp2-start", "/hpp/payouts", names)
        )

    async def start(request: Request) -> Response:
        form = await request.form()
        payout_id = str(form.get("payout_id") or "")
        return_uri = str(form.get("return_uri") or "")
        with api.state.lock:
            token = str(form.get("resource_token") or "")
            if not token_names(api, token, "payout_id", payout_id):
                return error_page(401, "The payout link is invalid or has expired.")
            payout = payouts.find(payout_id)
            if not return_uri or payout is None:
                return error_page(400, "The return_uri parameter is missing.")
            if not allowed(api, payout.client_id, return_uri):
                return error_page(400, PAGE_REFUSAL)
            if payout.status == "authorization_required":
                payouts.start_flow(payout, return_uri)
            payout.flow_return_uri = return_uri
            session = secrets.token_urlsafe(16)
            payouts.sessions[session] = payout.id
        return RedirectResponse(f"/hpp/payouts/{session}", 303)

    def _session(request: Request) -> Payout | None:
        payout_id = payouts.sessions.get(request.path_params["session"])
        return payouts.find(payout_id) if payout_id is not None else None

    async def account_page(request: Request) -> Response:
        with api.state.lock:
            payout = _session(request)
            if payout is None:
                return error_page(404, "This payout page has expired.")
            if payout.status != "authorizing":
                return result_page("payout", payout.id, payout.status)
            amount = f"{payout.amount_in_minor / 100:.2f} {payout.currency}"
        identifiers = ", ".join(
            i.get("iban") or f"{i.get('sort_code')} {i.get('account_number')}"
            for i in PAYER_ACCOUNT["account_identifiers"]
        )
        body = (
            f'<p id="amount">Receive {escape(amount)}</p>'
            f'<p id="account">{escape(PAYER_ACCOUNT["account_holder_name"])}: '
            f"{escape(identifiers)}</p>"
            '<form id="payout-form" method="post">'
            '<button type="submit" name="action" value="authorise" id="authorise">'
            "Use this account</button>"
            '<button type="submit" name="action" value="reject" id="reject">'
            "Not my account</button></form>"
        )
        return page("hp2-account", "Choose your account", body)

    async def choose(request: Request) -> Response:
        form = await request.form()
        with api.state.lock:
            payout = _session(request)
            if payout is None:
                return error_page(404, "This payout page has expired.")
            if payout.status != "authorizing":
                return result_page("payout", payout.id, payout.status)
            outcome = "authorized" if form.get("action") == "authorise" else "account_not_valid"
            payouts.decide(payout, outcome)
            uri = payout.flow_return_uri or result_uri(request)
        return RedirectResponse(redirect_with(uri, {"payout_id": payout.id}), 303)

    return [
        Route("/hpp/payouts", start_page, methods=["GET"]),
        Route("/hpp/payouts", start, methods=["POST"]),
        Route("/hpp/payouts/{session}", account_page, methods=["GET"]),
        Route("/hpp/payouts/{session}", choose, methods=["POST"]),
    ]
