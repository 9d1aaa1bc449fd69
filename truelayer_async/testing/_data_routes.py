"""Data API v1 (``/data/v1/...``): bearer checks, scopes, envelopes, async mode, batch.

Order of checks for every endpoint: bearer token (401 ``unauthorized`` for unknown,
superseded, deleted or revoked tokens; 401 ``invalid_token`` "The token expired at '…'"
once expired; 403 ``access_denied`` when consent was revoked or is past 90 days) →
scopes (403 ``insufficient_scope``, RFC 6750's code, naming the missing scopes in the
description and in ``error_details.missing_scopes``) → query parameters (400
``validation_error``; ``from`` after ``to`` → 400 ``invalid_date_range``) → the
provider (error personas, 404 ``account_not_found``, 501 ``endpoint_not_supported``).

``from``/``to`` accept ``YYYY-MM-DD`` or ISO-8601 date-times (naive = UTC) and are
inclusive; a bare ``to`` date covers that whole day. Without ``to`` the window ends now;
without ``from`` it starts 90 days before its end.

``?async=true`` answers 202 ``{results_uri, status: "Queued", task_id}``; polling
``/data/v1/results/{task_id}`` with the same connection's newest token answers
``{"results": [], "status": "Running"}`` for the first ``async_running_polls`` polls,
then the normal envelope, or ``{"status": "Failed", "error", "error_description"}``. With
``webhook_uri`` the task completes at once and the webhook is recorded in
``fake.webhooks`` and, when delivery is on, POSTed to it (see ``_webhooks``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import attrs
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import _render
from ._body import BodyError, read_json_object
from ._data import Account, Card, Transaction
from ._encode import RawJSON
from ._records import WebhookRecord
from ._responses import data_error, data_headers, json_response
from ._state import Connection, FakeState, TokenRejected
from ._timefmt import from_epoch, iso_naive, iso_seconds_z, parse_bound

__all__ = ["DataError", "authenticate_or_error", "routes"]

_DEFAULT_WINDOW = timedelta(days=90)


class DataError(Exception):
    """A Data API error response."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


@attrs.frozen
class Ctx:
    """What a resource producer needs."""

    connection: Connection
    now: datetime
    params: dict[str, str]
    window: tuple[datetime, datetime] | None

    @property
    def accounts(self) -> tuple[Account, ...]:
        """The persona's accounts; a card-only bank answers 501."""
        data = self.connection.data()
        if not data.accounts_supported:
            raise DataError(501, "endpoint_not_supported", "Feature not supported by the provider")
        return data.accounts

    @property
    def account(self) -> Account:
        wanted = self.params["account_id"]
        found = next((a for a in self.accounts if a.account_id == wanted), None)
        if found is None:
            raise DataError(404, "account_not_found", "account not found")
        return found

    @property
    def card(self) -> Card:
        cards = self.connection.data().cards
        if cards is None:
            raise DataError(501, "endpoint_not_supported", "Feature not supported by the provider")
        found = self.connection.data().card(self.params["account_id"])
        if found is None:
            raise DataError(404, "account_not_found", "account not found")
        return found

    def transactions(
        self, items: tuple[Transaction, ...], style: str, *, running: bool
    ) -> list[RawJSON]:
        """``items`` inside the window, as encoded JSON (see ``_fragments``)."""
        assert self.window is not None
        return self.connection.encoded.within(
            items, self.window, running_balance=running, style=style
        )


Producer = Callable[[Ctx], list[Any]]


def authenticate_or_error(state: FakeState, request: Request) -> Connection | Response:
    """The request's connection, or the Data API's 401/403 response."""
    try:
        return state.authenticate(request.headers.get("authorization"))
    except TokenRejected as exc:
        if exc.is_consent:
            return data_error(
                403, "access_denied", exc.description, credentials_id=exc.credentials_id
            )
        error = "invalid_token" if exc.kind == "expired" else "unauthorized"
        return data_error(401, error, exc.description, credentials_id=exc.credentials_id)


# -- producers -------------------------------------------------------------------------------


def _me(ctx: Ctx) -> list[dict[str, Any]]:
    return [_render.me(ctx.connection)]


def _info(ctx: Ctx) -> list[dict[str, Any]]:
    return [_render.info(ctx.connection.data(), ctx.now)]


def _accounts(ctx: Ctx) -> list[dict[str, Any]]:
    pid = ctx.connection.provider_id
    return [_render.account(a, pid, ctx.now) for a in ctx.accounts]


def _account(ctx: Ctx) -> list[dict[str, Any]]:
    return [_render.account(ctx.account, ctx.connection.provider_id, ctx.now)]


def _balance(ctx: Ctx) -> list[dict[str, Any]]:
    return [_render.account_balance(ctx.account, ctx.now)]


def _account_transactions(pending: bool) -> Producer:
    def produce(ctx: Ctx) -> list[Any]:
        account = ctx.account
        items = account.pending if pending else account.transactions
        return ctx.transactions(items, _style(account), running="balance" in ctx.connection.scopes)

    return produce


def _style(account: Account) -> str:
    """How an account's booked transactions spell their timestamps."""
    return "offset" if account.account_type == "TRANSACTION" else "naive"


def _standing_orders(ctx: Ctx) -> list[dict[str, Any]]:
    account = ctx.account
    return [
        _render.standing_order(o, account.provider_account_id, ctx.now)
        for o in account.standing_orders
    ]


def _direct_debits(ctx: Ctx) -> list[dict[str, Any]]:
    account = ctx.account
    return [
        _render.direct_debit(d, account.provider_account_id, ctx.now)
        for d in account.direct_debits
    ]


def _cards(ctx: Ctx) -> list[dict[str, Any]]:
    cards = ctx.connection.data().cards
    if cards is None:
        raise DataError(501, "endpoint_not_supported", "Feature not supported by the provider")
    return [_render.card(c, ctx.connection.provider_id, ctx.now) for c in cards]


def _card(ctx: Ctx) -> list[dict[str, Any]]:
    return [_render.card(ctx.card, ctx.connection.provider_id, ctx.now)]


def _card_balance(ctx: Ctx) -> list[dict[str, Any]]:
    return [_render.card_balance(ctx.card, ctx.now)]


def _card_transactions(pending: bool) -> Producer:
    def produce(ctx: Ctx) -> list[Any]:
        card = ctx.card
        items = card.pending if pending else card.transactions
        return ctx.transactions(items, "offset", running="balance" in ctx.connection.scopes)

    return produce


# -- plumbing --------------------------------------------------------------------------------


def _window(query: dict[str, str], now: datetime) -> tuple[datetime, datetime]:
    try:
        end = parse_bound(query["to"], end_of_day=True) if "to" in query else now
        start = (
            parse_bound(query["from"], end_of_day=False)
            if "from" in query
            else end - _DEFAULT_WINDOW
        )
    except ValueError:
        raise DataError(
            400, "validation_error", "The supplied parameters are not valid: from/to."
        ) from None
    if start > end:
        raise DataError(400, "invalid_date_range", "Invalid date range provided.")
    return start, end


def _check_webhook_uri(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise DataError(400, "validation_error", "webhook_uri must be an absolute URL.")


def _scope_error(missing: list[str], credentials_id: str) -> Response:
    return data_error(
        403,
        "insufficient_scope",
        f"The access token does not grant the {' and '.join(missing)} scope(s) "
        "this endpoint needs.",
        credentials_id=credentials_id,
        details={"missing_scopes": missing},
    )


def _run(ctx: Ctx, producer: Producer, provider_call: bool) -> list[Any]:
    persona = ctx.connection.persona
    if provider_call and persona.error:
        raise DataError(persona.error_status, persona.error, persona.error_description)
    return producer(ctx)


def _envelope(results: list[Any]) -> dict[str, Any]:
    return {"results": results, "status": "Succeeded"}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def routes(state: FakeState) -> list[BaseRoute]:
    """Routes for ``/data/v1``."""

    def endpoint(
        path: str,
        scopes: tuple[str, ...],
        producer: Producer,
        *,
        dated: bool = False,
        provider_call: bool = True,
        async_allowed: bool = True,
    ) -> Route:
        async def handler(request: Request) -> Response:
            with state.lock:
                return _serve(request, scopes, producer, dated, provider_call, async_allowed)

        return Route("/data/v1" + path, handler, methods=["GET"])

    def _serve(
        request: Request,
        scopes: tuple[str, ...],
        producer: Producer,
        dated: bool,
        provider_call: bool,
        async_allowed: bool,
    ) -> Response:
        connection = authenticate_or_error(state, request)
        if isinstance(connection, Response):
            return connection
        cid = connection.credentials_id
        missing = [s for s in scopes if s not in connection.scopes]
        if missing:
            return _scope_error(missing, cid)
        now = from_epoch(state.clock())
        query = dict(request.query_params)
        try:
            asynchronous = False
            if "async" in query:
                if query["async"] != "true" or not async_allowed:
                    raise DataError(400, "validation_error", "async must be true if given.")
                asynchronous = True
            if "webhook_uri" in query:
                _check_webhook_uri(query["webhook_uri"])
            window = _window(query, now) if dated else None
        except DataError as exc:
            return data_error(exc.status, exc.error, exc.description, credentials_id=cid)
        ctx = Ctx(connection, now, dict(request.path_params), window)
        results: list[Any] | None = None
        failure: DataError | None = None
        try:
            results = _run(ctx, producer, provider_call)
        except DataError as exc:
            failure = exc
        if not asynchronous:
            if failure is not None:
                return data_error(
                    failure.status, failure.error, failure.description, credentials_id=cid
                )
            return json_response(_envelope(results or []), headers=data_headers(cid))
        webhook = query.get("webhook_uri")
        task = state.new_task(
            connection,
            results,
            None if failure is None else (failure.status, failure.error, failure.description),
            immediate=webhook is not None,
        )
        results_uri = f"{_base(request)}/data/v1/results/{task.task_id}"
        if webhook is not None:
            _record_webhook(
                state, webhook, str(request.url), results_uri, cid, task.task_id, failure is None
            )
        body = {"results_uri": results_uri, "status": "Queued", "task_id": task.task_id}
        return json_response(body, 202, headers=data_headers(cid))

    async def results(request: Request) -> Response:
        with state.lock:
            connection = authenticate_or_error(state, request)
            if isinstance(connection, Response):
                return connection
            cid = connection.credentials_id
            task = state.tasks.get(request.path_params["task_id"])
            if task is None or task.credentials_id != cid:
                return data_error(404, "task_not_found", "No such task.", credentials_id=cid)
            task.polls += 1
            if task.polls <= task.completes_after_polls:
                body: dict[str, Any] = {"results": [], "status": "Running"}
            elif task.error is not None:
                body = {
                    "status": "Failed",
                    "error": task.error[1],
                    "error_description": task.error[2],
                }
            else:
                body = _envelope(task.results or [])
            return json_response(body, headers=data_headers(cid))

    async def batch(request: Request) -> Response:
        raw = await request.body()
        with state.lock:
            connection = authenticate_or_error(state, request)
            if isinstance(connection, Response):
                return connection
        try:
            body = await read_json_object(request) if raw.strip() else {}
        except BodyError as exc:
            return data_error(400, "validation_error", str(exc))
        with state.lock:
            return _batch(state, request, connection, body)

    async def batch_results(request: Request) -> Response:
        with state.lock:
            connection = authenticate_or_error(state, request)
            if isinstance(connection, Response):
                return connection
            cid = connection.credentials_id
            if "accounts" not in connection.scopes:
                return _scope_error(["accounts"], cid)
            if connection.last_batch is None:
                return data_error(
                    404, "task_not_found", "No batch was requested.", credentials_id=cid
                )
            return json_response(connection.last_batch, headers=data_headers(cid))

    return [
        endpoint("/me", (), _me, provider_call=False, async_allowed=False),
        endpoint("/info", ("info",), _info),
        endpoint("/accounts", ("accounts",), _accounts),
        endpoint("/accounts/{account_id}", ("accounts",), _account),
        endpoint("/accounts/{account_id}/balance", ("accounts", "balance"), _balance),
        endpoint(
            "/accounts/{account_id}/transactions",
            ("accounts", "transactions"),
            _account_transactions(pending=False),
            dated=True,
        ),
        endpoint(
            "/accounts/{account_id}/transactions/pending",
            ("accounts", "transactions"),
            _account_transactions(pending=True),
            dated=True,
        ),
        endpoint(
            "/accounts/{account_id}/standing_orders",
            ("accounts", "standing_orders"),
            _standing_orders,
        ),
        endpoint(
            "/accounts/{account_id}/direct_debits", ("accounts", "direct_debits"), _direct_debits
        ),
        endpoint("/cards", ("cards",), _cards),
        endpoint("/cards/{account_id}", ("cards",), _card),
        endpoint("/cards/{account_id}/balance", ("cards", "balance"), _card_balance),
        endpoint(
            "/cards/{account_id}/transactions",
            ("cards", "transactions"),
            _card_transactions(pending=False),
            dated=True,
        ),
        endpoint(
            "/cards/{account_id}/transactions/pending",
            ("cards", "transactions"),
            _card_transactions(pending=True),
            dated=True,
        ),
        Route("/data/v1/results/{task_id}", results, methods=["GET"]),
        Route("/data/v1/batch/transactions", batch, methods=["POST"]),
        Route("/data/v1/batch/results", batch_results, methods=["GET"]),
    ]


def _record_webhook(
    state: FakeState,
    uri: str,
    request_uri: str,
    results_uri: str,
    credentials_id: str,
    task_id: str,
    succeeded: bool,
) -> None:
    payload = {
        "request_timestamp": iso_seconds_z(from_epoch(state.clock())),
        "request_uri": request_uri,
        "results_uri": results_uri,
        "credentials_id": credentials_id,
        "task_id": task_id,
        "status": "Succeeded" if succeeded else "Failed",
    }
    record = WebhookRecord(uri, payload)
    state.webhooks.append(record)
    state.on_webhook(record)


def _batch(
    state: FakeState, request: Request, connection: Connection, body: dict[str, Any]
) -> Response:
    """``POST /data/v1/batch/transactions`` (needs accounts + transactions): runs at once,
    stores the result for ``GET /data/v1/batch/results`` and answers 202."""
    cid = connection.credentials_id
    missing = [s for s in ("accounts", "transactions") if s not in connection.scopes]
    if missing:
        return _scope_error(missing, cid)
    now = from_epoch(state.clock())
    try:
        query = {k: body[k] for k in ("from", "to") if body.get(k) is not None}
        if not all(isinstance(v, str) for v in query.values()):
            raise DataError(400, "validation_error", "from/to must be strings.")
        window = _window(query, now)
        whitelist = body.get("account_ids_whitelist")
        if whitelist is not None and not (
            isinstance(whitelist, list) and all(isinstance(i, str) for i in whitelist)
        ):
            raise DataError(400, "validation_error", "account_ids_whitelist must list ids.")
        for flag in ("pending", "balance"):
            if body.get(flag) is not None and not isinstance(body[flag], bool):
                raise DataError(400, "validation_error", f"{flag} must be a boolean.")
        webhook = body.get("webhook_uri")
        if webhook is not None:
            if not isinstance(webhook, str):
                raise DataError(400, "validation_error", "webhook_uri must be a string.")
            _check_webhook_uri(webhook)
        persona = connection.persona
        if persona.error:
            raise DataError(persona.error_status, persona.error, persona.error_description)
    except DataError as exc:
        return data_error(exc.status, exc.error, exc.description, credentials_id=cid)

    ctx = Ctx(connection, now, {}, window)
    data = connection.data()
    want_balance = bool(body.get("balance")) and "balance" in connection.scopes
    running = "balance" in connection.scopes

    def item(resource: Account | Card, style: str) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "account_id": resource.account_id,
            "transactions": ctx.transactions(resource.transactions, style, running=running),
        }
        if body.get("pending"):
            entry["pending_transactions"] = ctx.transactions(
                resource.pending, style, running=False
            )
        if want_balance:
            entry["balance"] = (
                _render.account_balance(resource, now)
                if isinstance(resource, Account)
                else _render.card_balance(resource, now)
            )
        return entry

    accounts = [
        item(a, _style(a)) for a in data.accounts if whitelist is None or a.account_id in whitelist
    ]
    results: dict[str, Any] = {"accounts": accounts}
    if "cards" in connection.scopes and data.cards is not None:
        results["cards"] = [
            item(c, "offset") for c in data.cards if whitelist is None or c.account_id in whitelist
        ]
    task = state.new_task(connection, None, None, immediate=True)
    connection.last_batch = {
        "status": "Succeeded",
        "task_id": task.task_id,
        "request": {"from": iso_naive(window[0]), "to": iso_naive(window[1])},
        "results": results,
    }
    results_uri = f"{_base(request)}/data/v1/batch/results"
    if isinstance(webhook, str):
        _record_webhook(state, webhook, str(request.url), results_uri, cid, task.task_id, True)
    reply = {"results_uri": results_uri, "status": "Queued", "task_id": task.task_id}
    return json_response(reply, 202, headers=data_headers(cid))
