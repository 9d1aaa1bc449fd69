"""The hosted page for mandates and the mock bank's mandate page.

* ``GET /hpp/mandates`` reads ``mandate_id``, ``resource_token`` and ``return_uri`` from
  the fragment and POSTs them (``<form id="hpp-mandate-start">``) to ``POST
  /hpp/mandates``, which checks the token, starts the mandate's flow and answers 303 to
  ``/hpp/mandates/{session}``: the VRP providers as ``<button id="provider-{id}"
  name="provider_id">`` in ``<form id="provider-form">``; choosing one answers 303 to the
  bank page.
* ``/mock-bank/mandates/{session}``: ``<form id="bank-form">`` with ``<input
  name="username" id="username">`` (``test_executed`` authorises,
  ``test_authorisation_failed`` fails with ``authorization_failed``), ``<button
  id="authorise" name="action" value="authorise">`` and ``<button id="cancel"
  name="action" value="cancel">`` (fails with ``canceled``). It answers 303 to the flow's
  ``return_uri`` with ``mandate_id`` appended. Pages: ``data-step="hpp-mandate-start|
  hpp-providers|bank|result|error"``.
"""

from __future__ import annotations

import secrets
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .._dialog import redirect_with
from ._api import PaymentsApi
from ._mandates import Mandate, next_action, vrp_providers
from ._pages import error_page, fragment_form, page, result_page, result_uri, token_names
from ._return_uris import PAGE_REFUSAL, allowed

__all__ = ["routes"]

_USERNAMES = {"test_executed": "authorized", "test_authorisation_failed": "authorization_failed"}


def _bank_form(mandate: Mandate, error: str | None) -> HTMLResponse:
    problem = f'<p id="bank-error" class="error">{escape(error)}</p>' if error else ""
    limit = mandate.constraints.get("maximum_individual_amount", 0) / 100
    body = (
        f'<p id="mandate">Allow payments of up to {limit:.2f} {escape(mandate.currency)}</p>'
        f"{problem}"
        '<form id="bank-form" method="post">'
        '<label for="username">Username</label>'
        '<input name="username" id="username" value="test_executed">'
        '<button type="submit" name="action" value="authorise" id="authorise">Authorise</button>'
        '<button type="submit" name="action" value="cancel" id="cancel">Cancel</button>'
        "</form>"
    )
    return page("bank", "Mock bank", body)


def routes(api: PaymentsApi) -> list[BaseRoute]:
    """The mandates hosted page and mock bank routes."""
    mandates = api.mandates

    async def start_page(request: Request) -> Response:
        names = ("mandate_id", "resource_token", "return_uri")
        form = fragment_form("hpp-mandate-start", "/hpp/mandates", names)
        return page("hpp-mandate-start", "Loading your mandate", form)

    async def start(request: Request) -> Response:
        form = await request.form()
        mandate_id = str(form.get("mandate_id") or "")
        return_uri = str(form.get("return_uri") or "")
        with api.state.lock:
            token = str(form.get("resource_token") or "")
            if not token_names(api, token, "mandate_id", mandate_id):
                return error_page(401, "The mandate link is invalid or has expired.")
            mandate = mandates.find(mandate_id)
            if mandate is None or not return_uri:
                return error_page(400, "The return_uri parameter is missing.")
            if not allowed(api, mandate.client_id, return_uri):
                return error_page(400, PAGE_REFUSAL)
            if mandate.status == "authorization_required":
                flow = {"provider_selection": {}, "redirect": {"return_uri": return_uri}}
                mandates.start(mandate, flow)
            session = secrets.token_urlsafe(16)
            mandates.sessions[session] = (mandate.id, return_uri)
        return RedirectResponse(f"/hpp/mandates/{session}", 303)

    def _session(request: Request) -> Mandate | None:
        found = mandates.sessions.get(request.path_params["session"])
        return mandates.find(found[0]) if found is not None else None

    def _to_bank(mandate: Mandate) -> Response:
        action = next_action(mandate, "/mock-bank/mandates")
        if action is None or action["type"] != "redirect":
            return result_page("mandate", mandate.id, mandate.status)
        return RedirectResponse(action["uri"], 303)

    async def providers_page(request: Request) -> Response:
        with api.state.lock:
            mandate = _session(request)
            if mandate is None:
                return error_page(404, "This mandate page has expired.")
            if mandate.status != "authorizing":
                return result_page("mandate", mandate.id, mandate.status)
            if mandate.provider_id is not None:
                return _to_bank(mandate)
            offered = vrp_providers(mandate)
        buttons = "\n".join(
            f'<button type="submit" name="provider_id" value="{escape(p.id)}" '
            f'id="provider-{escape(p.id)}">{escape(p.display_name)}</button>'
            for p in offered
        )
        body = f'<form id="provider-form" method="post">{buttons}</form>'
        return page("hpp-providers", "Set up a mandate", body)

    async def choose(request: Request) -> Response:
        form = await request.form()
        with api.state.lock:
            mandate = _session(request)
            if mandate is None:
                return error_page(404, "This mandate page has expired.")
            if mandate.status != "authorizing":
                return result_page("mandate", mandate.id, mandate.status)
            if not mandates.choose_provider(mandate, str(form.get("provider_id") or "")):
                return error_page(400, "Unknown provider.")
            mandate.consented = True  # the hosted page shows the consent itself
            return _to_bank(mandate)

    def _bank_mandate(request: Request) -> Mandate | None:
        session = request.path_params["session"]
        return next((m for m in mandates.mandates.values() if m.bank_session == session), None)

    async def bank_page(request: Request) -> Response:
        with api.state.lock:
            mandate = _bank_mandate(request)
            if mandate is None:
                return error_page(404, "Unknown bank session.")
            if mandate.status != "authorizing":
                return result_page("mandate", mandate.id, mandate.status)
            return _bank_form(mandate, None)

    async def bank_submit(request: Request) -> Response:
        form = await request.form()
        with api.state.lock:
            mandate = _bank_mandate(request)
            if mandate is None:
                return error_page(404, "Unknown bank session.")
            if mandate.status != "authorizing":
                return result_page("mandate", mandate.id, mandate.status)
            if form.get("action") == "cancel":
                outcome = "canceled"
            else:
                username = str(form.get("username") or "")
                if username not in _USERNAMES:
                    return _bank_form(mandate, f"Unknown sandbox user {username!r}.")
                outcome = _USERNAMES[username]
            mandates.decide(mandate, outcome)
            redirect = (mandate.flow or {}).get("redirect") or {}
            uri = str(redirect.get("return_uri") or result_uri(request))
        return RedirectResponse(redirect_with(uri, {"mandate_id": mandate.id}), 303)

    return [
        Route("/hpp/mandates", start_page, methods=["GET"]),
        Route("/hpp/mandates", start, methods=["POST"]),
        Route("/hpp/mandates/{session}", providers_page, methods=["GET"]),
        Route("/hpp/mandates/{session}", choose, methods=["POST"]),
        Route("/mock-bank/mandates/{session}", bank_page, methods=["GET"]),
        Route("/mock-bank/mandates/{session}", bank_submit, methods=["POST"]),
    ]
