"""``EmulatorControl``: a typed async client for the emulator's ``/_emulator/`` control API.

Use it against a served emulator from any test process (``python -m
truelayer_async.testing``, ``truelayer-async fake-server``), or get one from a fake with
``fake.control()``::

    async with EmulatorControl("http://127.0.0.1:8765") as control:
        tokens = await control.create_connection("john")
        await control.add_fault("/data/v1/accounts", status=503, times=2)
        await control.advance_clock(3600)

It needs only httpx. Any answer other than 2xx, and any network failure, raises
``EmulatorControlError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import attrs
import httpx

from .._resource import AsyncResource
from ..errors import TrueLayerError
from ._records import RequestRecord, WebhookAttempt, WebhookRecord

__all__ = ["ClockReading", "EmulatorControl", "EmulatorControlError"]

_UNSET: Any = object()


class EmulatorControlError(TrueLayerError):
    """The control API refused a call (``status``, ``error``) or could not be reached
    (``status`` is ``None``)."""

    def __init__(self, message: str, *, status: int | None = None, error: str | None = None):
        super().__init__(message)
        self.status = status
        self.error = error


@attrs.frozen
class ClockReading:
    """The emulator's time: ``now`` (unix seconds), ``iso`` (the same, RFC 3339), ``mode``
    (``"live"``: real time plus ``offset``; ``"frozen"``: moves only when advanced)."""

    now: float
    iso: str
    mode: str
    offset: float | None


class EmulatorControl(AsyncResource):
    """Async client for one emulator's control API (``base_url``: where it is served).

    Pass ``http_client`` to reuse a client (it is then not closed by ``aclose``).
    """

    def __init__(self, base_url: str, *, http_client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._owns_client = http_client is None
        self._client = (
            http_client
            if http_client is not None
            else httpx.AsyncClient(trust_env=False, timeout=10.0)
        )

    # -- clock --------------------------------------------------------------------------

    async def clock(self) -> ClockReading:
        """``GET /_emulator/clock``."""
        return ClockReading(**await self._call("GET", "clock"))

    async def advance_clock(self, seconds: float) -> ClockReading:
        """``POST /_emulator/clock/advance``: jump ``seconds`` ahead (not negative)."""
        return ClockReading(**await self._call("POST", "clock/advance", {"seconds": seconds}))

    # -- faults -------------------------------------------------------------------------

    async def add_fault(
        self,
        path: str,
        *,
        status: int | None = None,
        error: str | None = None,
        headers: Mapping[str, str] | None = None,
        times: int | None = _UNSET,
        latency: float | None = None,
        drop_response_after_commit: bool = False,
        method: str | None = None,
        description: str | None = None,
    ) -> list[str]:
        """``POST /_emulator/faults``: like ``fail_next`` (``status``), ``add_latency``
        (``latency``) and ``drop_response_after_commit``, for requests to ``path`` (exact,
        or a prefix ending in ``*``). ``times`` defaults to 1 for a status or a drop and
        to "until cleared" (``None``) for latency alone. Returns the kinds of rule added."""
        body: dict[str, Any] = {"path": path}
        optional = {
            "status": status,
            "error": error,
            "headers": dict(headers) if headers else None,
            "latency": latency,
            "method": method,
            "description": description,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        if drop_response_after_commit:
            body["drop_response_after_commit"] = True
        if times is not _UNSET:
            body["times"] = times
        added: list[str] = (await self._call("POST", "faults", body))["added"]
        return added

    async def clear_faults(self) -> None:
        """``DELETE /_emulator/faults``: remove every fault rule."""
        await self._call("DELETE", "faults")

    # -- connections --------------------------------------------------------------------

    async def create_connection(
        self,
        username: str = "john",
        *,
        scopes: Iterable[str] | None = None,
        password: str | None = None,
    ) -> dict[str, Any]:
        """``POST /_emulator/connections``: connect a mock bank user without the dialog;
        returns the token response (``access_token``, ``refresh_token``, ``expires_in``,
        ``scope``…). Scopes default to every Data scope."""
        body: dict[str, Any] = {"username": username}
        if scopes is not None:
            body["scopes"] = list(scopes)
        if password is not None:
            body["password"] = password
        tokens: dict[str, Any] = await self._call("POST", "connections", body)
        return tokens

    async def revoke(self, username: str) -> int:
        """``POST /_emulator/connections/{username}/revoke``: the user revokes consent at
        the bank; returns how many connections were revoked."""
        revoked: int = (await self._call("POST", f"connections/{username}/revoke"))["revoked"]
        return revoked

    # -- what happened --------------------------------------------------------------------

    async def refresh_count(self, key: str) -> int:
        """``GET /_emulator/connections/{key}/refreshes``: how many refresh grants the
        emulator answered for the connection ``key`` names (a credentials id, or a
        username's newest connection)."""
        route = f"connections/{quote(key, safe='')}/refreshes"
        return int((await self._call("GET", route))["refreshes"])

    async def requests(self) -> list[RequestRecord]:
        """``GET /_emulator/requests``: every request received, oldest first (without
        credential headers)."""
        rows = (await self._call("GET", "requests"))["requests"]
        return [RequestRecord(**row) for row in rows]

    async def stats(self) -> dict[str, int]:
        """``GET /_emulator/stats``: counts of token and Data requests."""
        counts: dict[str, int] = await self._call("GET", "stats")
        return counts

    async def webhooks(self) -> list[WebhookRecord]:
        """``GET /_emulator/webhooks``: every webhook with its delivery attempts."""
        rows = (await self._call("GET", "webhooks"))["webhooks"]
        return [_webhook_record(row) for row in rows]

    async def send_webhook(
        self,
        uri: str,
        event_type: str | None = None,
        *,
        payload: Mapping[str, Any] | None = None,
        signing: str = "valid",
        **fields: Any,
    ) -> WebhookRecord:
        """``POST /_emulator/webhooks``: send a signed v3 webhook to ``uri`` now: a sample
        of ``event_type`` (with ``fields`` overriding), or ``payload`` as given. ``signing``
        is ``"valid"`` or a deliberately bad mode (``"forged"``, ``"stale"``,
        ``"unknown_kid"``, ``"tampered"``, ``"bad_jku"``, ``"wrong_alg"``, ``"unsigned"``)."""
        body: dict[str, Any] = {"uri": uri, "signing": signing}
        if payload is not None:
            body["payload"] = dict(payload)
        else:
            body["type"] = event_type
            body["fields"] = fields
        return _webhook_record(await self._call("POST", "webhooks", body))

    async def rotate_webhook_key(self) -> str:
        """``POST /_emulator/webhook-keys/rotate``: a new current signing key (the old ones
        stay in the key set); returns its ``kid``."""
        kid: str = (await self._call("POST", "webhook-keys/rotate"))["kid"]
        return kid

    # -- Payments v3 ----------------------------------------------------------------------

    async def register_signing_key(
        self, key_id: str, public_pem: str, *, client_id: str | None = None
    ) -> None:
        """``POST /_emulator/signing-keys``: accept ``Tl-Signature``s made with this P-521
        key (``kid`` = ``key_id``) for ``client_id`` (default: the default client)."""
        body: dict[str, Any] = {"key_id": key_id, "public_key": public_pem}
        if client_id is not None:
            body["client_id"] = client_id
        await self._call("POST", "signing-keys", body)

    async def set_webhook_uri(self, uri: str, *, client_id: str | None = None) -> None:
        """``POST /_emulator/webhook-uri``: where the client's Payments webhooks go."""
        body: dict[str, Any] = {"uri": uri}
        if client_id is not None:
            body["client_id"] = client_id
        await self._call("POST", "webhook-uri", body)

    async def allow_return_uris(self, *uris: str, client_id: str | None = None) -> None:
        """``POST /_emulator/return-uris``: turn on the client's allow-list of Payments
        return URIs (default: the default client) and add ``uris`` to it."""
        body: dict[str, Any] = {"uris": list(uris)}
        if client_id is not None:
            body["client_id"] = client_id
        await self._call("POST", "return-uris", body)

    async def authorize_payment(
        self,
        payment_id: str,
        outcome: str = "executed",
        *,
        execution_delay: float | None = None,
        settlement_delay: float | None = None,
    ) -> str:
        """``POST /_emulator/payments/{id}/authorize``: answer for the bank (``executed``,
        ``authorization_failed``, ``execution_rejected``, ``canceled``); returns the
        payment's status."""
        body: dict[str, Any] = {"outcome": outcome}
        if execution_delay is not None:
            body["execution_delay"] = execution_delay
        if settlement_delay is not None:
            body["settlement_delay"] = settlement_delay
        result = await self._call("POST", f"payments/{quote(payment_id, safe='')}/authorize", body)
        return str(result["status"])

    async def credit_merchant_account(
        self, merchant_account_id: str, amount_in_minor: int, *, reference: str | None = None
    ) -> str:
        """``POST /_emulator/merchant-accounts/{id}/credit``: a bank transfer into the
        account (an ``external_payment``); returns the transaction id."""
        body: dict[str, Any] = {"amount_in_minor": amount_in_minor}
        if reference is not None:
            body["reference"] = reference
        route = f"merchant-accounts/{quote(merchant_account_id, safe='')}/credit"
        return str((await self._call("POST", route, body))["transaction_id"])

    async def seed_transactions(
        self, merchant_account_id: str, count: int, *, spacing: float = 60.0
    ) -> None:
        """``POST /_emulator/merchant-accounts/{id}/seed``: ``count`` credits of 1.00,
        ``spacing`` seconds apart, the last one now."""
        route = f"merchant-accounts/{quote(merchant_account_id, safe='')}/seed"
        await self._call("POST", route, {"count": count, "spacing": spacing})

    async def run_sweep(self, merchant_account_id: str) -> int:
        """``POST /_emulator/merchant-accounts/{id}/sweep``: sweep now; returns the amount
        withdrawn."""
        route = f"merchant-accounts/{quote(merchant_account_id, safe='')}/sweep"
        return int((await self._call("POST", route))["swept_in_minor"])

    async def authorize_payout(self, payout_id: str, outcome: str = "authorized") -> str:
        """``POST /_emulator/payouts/{id}/authorize``: answer for a verified payout's user
        (``authorized``, ``account_not_valid``, ``internal_error``); returns its status."""
        route = f"payouts/{quote(payout_id, safe='')}/authorize"
        return str((await self._call("POST", route, {"outcome": outcome}))["status"])

    async def fail_payout(self, payout_id: str, reason: str = "scheme_error") -> str:
        """``POST /_emulator/payouts/{id}/fail``: fail a payout (``returned`` for an
        executed one); returns its status."""
        route = f"payouts/{quote(payout_id, safe='')}/fail"
        return str((await self._call("POST", route, {"reason": reason}))["status"])

    async def authorize_mandate(self, mandate_id: str, outcome: str = "authorized") -> str:
        """``POST /_emulator/mandates/{id}/authorize``: answer for the bank
        (``authorized``, ``authorization_failed``, ``provider_rejected``, ``canceled``);
        returns the mandate's status."""
        route = f"mandates/{quote(mandate_id, safe='')}/authorize"
        return str((await self._call("POST", route, {"outcome": outcome}))["status"])

    async def revoke_mandate(self, mandate_id: str) -> str:
        """``POST /_emulator/mandates/{id}/revoke``: the user revokes the mandate at their
        bank; returns its status."""
        route = f"mandates/{quote(mandate_id, safe='')}/revoke"
        return str((await self._call("POST", route))["status"])

    async def connect_data_v3(
        self,
        scopes: Sequence[str] | None = None,
        *,
        username: str = "john",
        password: str | None = None,
        bulk_transactions: int = 0,
    ) -> str:
        """``POST /_emulator/data-v3/connections``: a Data v3 connection already authorised
        by a persona (``bulk_transactions`` synthetic ones added); returns its id."""
        body: dict[str, Any] = {"username": username, "bulk_transactions": bulk_transactions}
        if password is not None:
            body["password"] = password
        if scopes is not None:
            body["scopes"] = list(scopes)
        result = await self._call("POST", "data-v3/connections", body)
        return str(result["connection_id"])

    async def reset(self) -> None:
        """``POST /_emulator/reset``: forget connections, requests, webhooks and faults."""
        await self._call("POST", "reset")

    # -- plumbing -------------------------------------------------------------------------

    async def _call(self, method: str, route: str, body: Any = None) -> Any:
        url = f"{self.base_url}/_emulator/{route}"
        try:
            response = await self._client.request(method, url, json=body)
        except httpx.HTTPError as exc:
            raise EmulatorControlError(
                f"cannot reach the emulator's control API at {self.base_url}: {type(exc).__name__}"
            ) from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if not response.is_success:
            error = data.get("error") if isinstance(data, dict) else None
            detail = data.get("error_description") if isinstance(data, dict) else None
            raise EmulatorControlError(
                f"{method} /_emulator/{route} answered {response.status_code}"
                + (f": {detail}" if detail else ""),
                status=response.status_code,
                error=error,
            )
        return data

    async def aclose(self) -> None:
        """Close the HTTP client if this object made it."""
        if self._owns_client:
            await self._client.aclose()


def _webhook_record(row: Mapping[str, Any]) -> WebhookRecord:
    return WebhookRecord(
        uri=row["uri"],
        payload=row["payload"],
        attempts=[WebhookAttempt(**a) for a in row["attempts"]],
        outcome=row["outcome"],
        signing=row.get("signing"),
    )
