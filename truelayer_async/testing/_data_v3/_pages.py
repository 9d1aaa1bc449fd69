"""The Data v3 hosted journey: ``GET /data-v3/connect/{id}`` shows the mock bank's login
form (the same hooks as the auth dialog's: ``<form id="login-form">``, ``#username``,
``#password``, ``#login-submit``, ``<p id="login-error">``); a persona that logs in
(``john``/``doe``, ``error.<code>``/``error`` …) authorises the connection, and the page
answers 303 to the connection's ``return_uri`` with ``connection_id`` appended to its query
[E]. A connection that is already authorised shows an error page.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .. import _html
from .._catalog import find_provider
from .._dialog import redirect_with
from .._personas import login, refusal
from .._state import FakeState
from ._store import V3Store

__all__ = ["routes"]

_PROVIDER = "mock"


def routes(state: FakeState, store: V3Store) -> list[BaseRoute]:
    """The journey page and its form."""

    def page(connection_id: str, *, error: str | None = None, username: str = "") -> Response:
        with state.lock:
            connection = store.connections.get(connection_id)
            usable = connection is not None and connection.persona is None
        if not usable:
            body = _html.error_page("invalid_connection", "Unknown or already authorised.")
            return HTMLResponse(body, 404)
        provider = find_provider(_PROVIDER)
        assert provider is not None
        action = f"/data-v3/connect/{connection_id}"
        html = _html.login_page(action, provider, language="en", error=error, username=username)
        return HTMLResponse(html, 400 if error else 200)

    async def show(request: Request) -> Response:
        return page(request.path_params["id"])

    async def submit(request: Request) -> Response:
        connection_id = request.path_params["id"]
        form = await request.form()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        persona = login(username, password)
        if persona is None:
            return page(connection_id, error=refusal(username, password), username=username)
        with state.lock:
            connection = store.connections.get(connection_id)
            if connection is None or connection.persona is not None:
                return page(connection_id)
            store.authorise(connection, persona)
            target = connection.return_uri or "/"
        return RedirectResponse(redirect_with(target, {"connection_id": connection_id}), 303)

    return [
        Route("/data-v3/connect/{id}", show, methods=["GET"]),
        Route("/data-v3/connect/{id}", submit, methods=["POST"]),
    ]
