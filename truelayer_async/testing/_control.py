"""The control API: ``/_emulator/…`` routes that drive the fake from another process.

Everything a Python test does to a ``FakeTrueLayer`` (move the clock, inject faults,
connect or revoke a persona, count a connection's refreshes, read the request log, stats
and webhooks, register a Payments signing key or webhook URI, decide a payment's outcome,
drive merchant accounts, payouts and mandates (``_ledger_control``), reset) has a route
here. They
answer JSON; bad input gets 400 ``{"error": "invalid_request", "error_description": …}``.
Only loopback clients may call them (403 otherwise), and they are neither faulted nor
recorded in the request log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router
from starlette.types import Receive, Scope, Send

from ._body import BodyError, read_json_object
from ._clock import LiveClock
from ._control_error import ControlError, as_control_errors
from ._faults import Rule
from ._ledger_control import handlers as ledger_handlers
from ._records import RequestRecord, WebhookRecord
from ._server import is_loopback
from ._timefmt import from_epoch, iso_micro_z

if TYPE_CHECKING:
    from ._fake import FakeTrueLayer

__all__ = ["PREFIX", "control_app"]

PREFIX = "/_emulator/"
#: Request headers never echoed by ``GET /_emulator/requests``.
_REDACTED = frozenset({"authorization", "cookie", "proxy-authorization"})


Handler = Callable[[Request], Awaitable[Any]]


def control_app(fake: FakeTrueLayer) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The ASGI app for ``/_emulator/…``, bound to ``fake``."""

    def route(path: str, handler: Handler, method: str) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                body = await handler(request)
            except ControlError as exc:
                error = "not_found" if exc.status == 404 else "invalid_request"
                return _json({"error": error, "error_description": exc.description}, exc.status)
            except BodyError as exc:
                return _json({"error": "invalid_request", "error_description": str(exc)}, 400)
            return _json(body)

        return Route(PREFIX + path, endpoint, methods=[method])

    async def clock(request: Request) -> dict[str, Any]:
        return clock_reading(fake)

    async def advance(request: Request) -> dict[str, Any]:
        seconds = (await read_json_object(request)).get("seconds")
        fake.advance(_seconds(seconds, "seconds"))
        return clock_reading(fake)

    async def add_fault(request: Request) -> dict[str, Any]:
        rules = fault_rules(await read_json_object(request))
        for rule in rules:
            fake.add_fault_rule(rule)
        return {"added": [rule.kind for rule in rules]}

    async def clear_faults(request: Request) -> dict[str, Any]:
        fake.clear_faults()
        return {"cleared": True}

    async def connect(request: Request) -> dict[str, Any]:
        body = await read_json_object(request)
        username = body.get("username")
        if not isinstance(username, str) or not username:
            raise ControlError("username is required (a mock bank user, e.g. 'john').")
        options: dict[str, Any] = {"username": username}
        for name in ("password", "client_id", "provider_id"):
            if name in body:
                options[name] = _string(body, name)
        if "scopes" in body:
            scopes = body["scopes"]
            if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
                raise ControlError("scopes must be a list of strings.")
            options["scopes"] = scopes
        try:
            return fake.create_connection(**options)
        except ValueError as exc:
            raise ControlError(str(exc)) from None

    async def revoke(request: Request) -> dict[str, Any]:
        username = request.path_params["username"]
        return {"revoked": as_control_errors(lambda: fake.revoke(username))}

    async def refreshes(request: Request) -> dict[str, Any]:
        key = request.path_params["key"]
        connection = as_control_errors(lambda: fake.connection(key))
        return {"credentials_id": connection.credentials_id, "refreshes": connection.refreshes}

    async def requests(request: Request) -> dict[str, Any]:
        return {"requests": [request_json(r) for r in list(fake.requests)]}

    async def stats(request: Request) -> dict[str, Any]:
        return fake.stats

    async def webhooks(request: Request) -> dict[str, Any]:
        return {"webhooks": [webhook_json(w) for w in fake.webhooks]}

    async def send_webhook(request: Request) -> dict[str, Any]:
        return webhook_json(_send_webhook(fake, await read_json_object(request)))

    async def rotate_webhook_key(request: Request) -> dict[str, Any]:
        return {"kid": fake.webhook_keys.rotate()}

    async def register_signing_key(request: Request) -> dict[str, Any]:
        body = await read_json_object(request)
        options = {"client_id": _string(body, "client_id")} if "client_id" in body else {}
        try:
            fake.register_signing_key(
                _string(body, "key_id"), _string(body, "public_key"), **options
            )
        except ValueError as exc:
            raise ControlError(str(exc)) from None
        return {"registered": body["key_id"]}

    async def set_webhook_uri(request: Request) -> dict[str, Any]:
        body = await read_json_object(request)
        options = {"client_id": _string(body, "client_id")} if "client_id" in body else {}
        fake.set_webhook_uri(_string(body, "uri"), **options)
        return {"uri": body["uri"]}

    async def allow_return_uris(request: Request) -> dict[str, Any]:
        body = await read_json_object(request)
        uris = body.get("uris")
        if not isinstance(uris, list) or not all(isinstance(u, str) and u for u in uris):
            raise ControlError("uris must be a list of URIs")
        options = {"client_id": _string(body, "client_id")} if "client_id" in body else {}
        as_control_errors(lambda: fake.allow_return_uris(*uris, **options))
        return {"allowed": uris}

    async def authorize_payment(request: Request) -> dict[str, Any]:
        body = await read_json_object(request)
        delays = {
            name: _seconds(body[name], name)
            for name in ("execution_delay", "settlement_delay")
            if body.get(name) is not None
        }
        payment_id, outcome = request.path_params["payment_id"], body.get("outcome", "executed")
        status = as_control_errors(lambda: fake.authorize_payment(payment_id, outcome, **delays))
        return {"status": status}

    async def connect_data_v3(request: Request) -> dict[str, Any]:
        body = await read_json_object(request)
        options: dict[str, Any] = {
            name: _string(body, name)
            for name in ("username", "password", "client_id")
            if name in body
        }
        if "scopes" in body:
            scopes = body["scopes"]
            if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
                raise ControlError("scopes must be a list of strings.")
            options["scopes"] = scopes
        bulk = body.get("bulk_transactions", 0)
        if isinstance(bulk, bool) or not isinstance(bulk, int) or not 0 <= bulk <= 100_000:
            raise ControlError("bulk_transactions must be an integer from 0 to 100000.")
        try:
            return {"connection_id": fake.connect_data_v3(bulk_transactions=bulk, **options)}
        except ValueError as exc:
            raise ControlError(str(exc)) from None

    async def reset(request: Request) -> dict[str, Any]:
        fake.reset()
        return {"reset": True}

    router = Router(
        routes=[
            route("clock", clock, "GET"),
            route("clock/advance", advance, "POST"),
            route("faults", add_fault, "POST"),
            route("faults", clear_faults, "DELETE"),
            route("connections", connect, "POST"),
            route("connections/{username}/revoke", revoke, "POST"),
            # A credentials id is base64: it may hold "/" (sent as %2F, decoded before routing).
            route("connections/{key:path}/refreshes", refreshes, "GET"),
            route("requests", requests, "GET"),
            route("stats", stats, "GET"),
            route("webhooks", webhooks, "GET"),
            route("webhooks", send_webhook, "POST"),
            route("webhook-keys/rotate", rotate_webhook_key, "POST"),
            route("signing-keys", register_signing_key, "POST"),
            route("webhook-uri", set_webhook_uri, "POST"),
            route("return-uris", allow_return_uris, "POST"),
            route("payments/{payment_id}/authorize", authorize_payment, "POST"),
            route("data-v3/connections", connect_data_v3, "POST"),
            route("reset", reset, "POST"),
            *(route(p, h, m) for p, h, m in ledger_handlers(fake)),
        ],
        default=_unknown,
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if client is not None and not is_loopback(str(client[0])):
            response = _json(
                {"error": "forbidden", "error_description": "The control API is loopback only."},
                403,
            )
            await response(scope, receive, send)
            return
        await router(scope, receive, send)

    return app


def _send_webhook(fake: FakeTrueLayer, body: dict[str, Any]) -> WebhookRecord:
    """``{"uri", "type" or "payload", "signing"?, "fields"?}`` → a signed webhook sent."""
    from ._webhook_keys import SIGNING_MODES
    from .webhook_samples import SAMPLE_EVENTS, sample_event

    uri = _string(body, "uri")
    if not uri.startswith(("http://", "https://")):
        raise ControlError("uri must be an http(s) URL.")
    signing = body.get("signing", "valid")
    if signing not in SIGNING_MODES:
        raise ControlError(f"signing must be one of {', '.join(SIGNING_MODES)}.")
    payload = body.get("payload")
    if payload is None:
        event_type = _string(body, "type")
        if event_type not in SAMPLE_EVENTS:
            raise ControlError(f"unknown webhook type {event_type!r}.")
        fields = body.get("fields") or {}
        if not isinstance(fields, dict):
            raise ControlError("fields must be an object.")
        payload = sample_event(event_type, **fields)
    elif not isinstance(payload, dict):
        raise ControlError("payload must be an object.")
    return fake.send_webhook(uri, payload, signing=signing)


# -- JSON shapes -------------------------------------------------------------------------


def clock_reading(fake: FakeTrueLayer) -> dict[str, Any]:
    """``{"now", "iso", "mode", "offset"}``; ``offset`` is ``null`` for a frozen clock."""
    now = fake.clock()
    live = isinstance(fake.clock, LiveClock)
    return {
        "now": now,
        "iso": iso_micro_z(from_epoch(now)),
        "mode": "live" if live else "frozen",
        "offset": fake.clock.offset if isinstance(fake.clock, LiveClock) else None,
    }


def request_json(record: RequestRecord) -> dict[str, Any]:
    """A recorded request; credentials-bearing headers are left out."""
    data = attrs.asdict(record)
    data["headers"] = {k: v for k, v in record.headers.items() if k not in _REDACTED}
    return data


def webhook_json(record: WebhookRecord) -> dict[str, Any]:
    """A webhook with its delivery attempts."""
    return attrs.asdict(record)


def fault_rules(body: dict[str, Any]) -> list[Rule]:
    """The rules one ``POST /_emulator/faults`` body asks for (at least one)."""
    path = body.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ControlError(
            "path is required and must start with '/' (a '*' suffix matches a prefix)."
        )
    method = _string(body, "method") if body.get("method") is not None else None
    status, latency = body.get("status"), body.get("latency")
    drop = body.get("drop_response_after_commit", False)
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599
    ):
        raise ControlError("status must be an HTTP error status (400-599).")
    if latency is not None:
        latency = _seconds(latency, "latency")
    if not isinstance(drop, bool):
        raise ControlError("drop_response_after_commit must be true or false.")
    if status is None and latency is None and not drop:
        raise ControlError("give status, latency or drop_response_after_commit.")
    if status is not None and drop:
        raise ControlError("status and drop_response_after_commit exclude each other.")
    times = body.get("times", ...)
    if (
        times is not ...
        and times is not None
        and (isinstance(times, bool) or not isinstance(times, int) or times < 1)
    ):
        raise ControlError("times must be a positive integer, or null for 'until cleared'.")
    headers = body.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ControlError("headers must be an object of strings.")
    error = _string(body, "error") if body.get("error") is not None else None
    description = _string(body, "description") if body.get("description") is not None else None

    def count(default: int | None) -> int | None:
        return default if times is ... else times

    rules: list[Rule] = []
    if latency is not None:
        rules.append(Rule("latency", path, method, count(None), seconds=latency))
    if status is not None:
        rules.append(
            Rule(
                "fail",
                path,
                method,
                count(1),
                status=status,
                error=error,
                description=description,
                headers=headers,
            )
        )
    if drop:
        rules.append(Rule("drop", path, method, count(1)))
    return rules


def _seconds(value: Any, name: str) -> float:
    """``value`` as seconds; a boolean, a non-number or a negative number is refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ControlError(f"{name} must be a number of seconds, not negative.")
    return float(value)


def _string(body: dict[str, Any], name: str) -> str:
    value = body[name]
    if not isinstance(value, str):
        raise ControlError(f"{name} must be a string.")
    return value


def _json(body: Any, status: int = 200) -> Response:
    # Plain JSON (floats included: times are unix seconds), never cached.
    return JSONResponse(body, status, headers={"Cache-Control": "no-store"})


async def _unknown(scope: Scope, receive: Receive, send: Send) -> None:
    response = _json({"error": "not_found", "error_description": "No such control route."}, 404)
    await response(scope, receive, send)
