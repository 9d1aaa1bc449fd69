"""Verification v3 in the emulator (truelayer-api-v3.md §7.1–§7.3, verification-api.json):
account holder verification requests, French account details and bank lookup.

The routes sit behind the Payments guard (client token and scope, ``Tl-Signature`` and
``Idempotency-Key`` on AHV creation, idempotent replay) and answer problems in the
Verification spelling (camelCase ``traceId``). An AHV request is ``pending`` for
``Timing.verification_delay`` emulator seconds, then ``completed`` or ``failed`` as
``_verification_outcomes`` decides, with its webhook sent to the client's webhook URI.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from starlette.responses import Response
from starlette.routing import BaseRoute

from ._clock import EmulatorClock
from ._payments import PaymentsApi, Timing
from ._payments._endpoint import Call, Spec, api_route
from ._payments._problems import VERIFICATION_STYLE, PaymentsProblem, payments_json
from ._verification_outcomes import ahv_outcome, bank_for, fr_details

__all__ = ["AhvRequest", "AhvStore", "routes"]

_AHV = "/v3/account-holder-verifications/requests"
_SORT_CODE = re.compile(r"[0-9]{6}")
_ACCOUNT_NUMBER = re.compile(r"[0-9]{8}")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MAX_NAME = 200


@attrs.define
class AhvRequest:
    """One account holder verification request."""

    id: str
    client_id: str
    name: str
    identifier: dict[str, Any]
    due_at: float
    status: str = "pending"
    match_result: dict[str, Any] | None = None
    failure_reason: str | None = None

    def render(self) -> dict[str, Any]:
        """The ``GET`` body."""
        body: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.match_result is not None:
            body["match_result"] = self.match_result
        if self.failure_reason is not None:
            body["failure_reason"] = self.failure_reason
        return body


class AhvStore:
    """Every AHV request of one emulator state (guarded by ``state.lock``)."""

    def __init__(
        self, clock: EmulatorClock, timing: Timing, emit: Callable[[str, dict[str, Any]], None]
    ) -> None:
        self.clock = clock
        self.timing = timing
        #: ``emit(client_id, payload)`` sends a signed webhook to that client.
        self.emit = emit
        self.requests: dict[str, AhvRequest] = {}

    def create(self, client_id: str, name: str, identifier: dict[str, Any]) -> AhvRequest:
        """A new ``pending`` request, due after ``timing.verification_delay``."""
        due = self.clock() + self.timing.verification_delay
        request = AhvRequest(str(uuid.uuid4()), client_id, name, identifier, due)
        self.requests[request.id] = request
        self.tick()  # a zero delay completes it at once
        return request

    def find(self, request_id: str, client_id: str) -> AhvRequest | None:
        """The caller's request ``request_id`` (another client's is not found)."""
        self.tick()
        request = self.requests.get(request_id)
        return request if request is not None and request.client_id == client_id else None

    def tick(self) -> None:
        """Complete every pending request that is due, sending its webhook."""
        now = self.clock()
        for request in self.requests.values():
            if request.status == "pending" and request.due_at <= now:
                self._finish(request)

    def _finish(self, request: AhvRequest) -> None:
        status, outcome = ahv_outcome(request.name, request.identifier)
        request.status = status
        event: dict[str, Any] = {
            "type": f"account_holder_verification_{status}",
            "event_id": str(uuid.uuid4()),
            "event_version": 1,
            "account_holder_verification_id": request.id,
        }
        if isinstance(outcome, dict):
            request.match_result = outcome
            event["match_result"] = outcome
        else:
            request.failure_reason = outcome
            event["failure_reason"] = outcome
        self.emit(request.client_id, event)


# -- request validation -------------------------------------------------------------------


def _invalid(field: str, message: str) -> PaymentsProblem:
    return PaymentsProblem("invalid_parameters", "The request is invalid.", {field: [message]})


def _name(body: Mapping[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(field, "Must be a non-empty string.")
    if len(value) > _MAX_NAME:
        raise _invalid(field, f"Must be at most {_MAX_NAME} characters.")
    return value


def _matches(value: Any, pattern: re.Pattern[str]) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _identifier(body: Mapping[str, Any], *, iban_only: bool = False) -> dict[str, Any]:
    field = "account_identifier"
    value = body.get(field)
    if not isinstance(value, dict):
        raise _invalid(field, "Must be an object.")
    kind = value.get("type")
    if kind == "iban":
        if not _matches(value.get("iban"), _IBAN):
            raise _invalid(f"{field}.iban", "Must be a valid IBAN without spaces.")
        return {"type": "iban", "iban": value["iban"]}
    if kind == "sort_code_account_number" and not iban_only:
        if not _matches(value.get("sort_code"), _SORT_CODE):
            raise _invalid(f"{field}.sort_code", "Must be 6 digits.")
        if not _matches(value.get("account_number"), _ACCOUNT_NUMBER):
            raise _invalid(f"{field}.account_number", "Must be 8 digits.")
        return {k: value[k] for k in ("type", "sort_code", "account_number")}
    allowed = "iban" if iban_only else "sort_code_account_number or iban"
    raise _invalid(f"{field}.type", f"Must be {allowed}.")


# -- handlers -----------------------------------------------------------------------------


def _create_ahv(store: AhvStore) -> Callable[[Call], Response]:
    def handle(call: Call) -> Response:
        name = _name(call.body, "account_holder_name")
        identifier = _identifier(call.body)
        request = store.create(call.client_id, name, identifier)
        return payments_json("POST", {"id": request.id}, 202)

    return handle


def _get_ahv(store: AhvStore) -> Callable[[Call], Response]:
    def handle(call: Call) -> Response:
        request = store.find(call.param("id"), call.client_id)
        if request is None:
            raise PaymentsProblem("not_found", "Account holder verification not found.")
        return payments_json("GET", request.render())

    return handle


def _verify_fr(call: Call) -> Response:
    _name(call.body, "name")
    _identifier(call.body, iban_only=True)
    if call.body.get("account_type") not in ("personal", "business"):
        raise _invalid("account_type", "Must be personal or business.")
    birth = call.body.get("date_of_birth")
    if birth is not None and not _matches(birth, _DATE):
        raise _invalid("date_of_birth", "Must be a date (YYYY-MM-DD).")
    return payments_json("POST", fr_details(call.body))


def _bank_lookup(call: Call) -> Response:
    return payments_json("POST", bank_for(_identifier(call.body)))


def routes(api: PaymentsApi, store: AhvStore) -> list[BaseRoute]:
    """Every Verification v3 operation of verification-api.json."""
    signed = Spec(("verification",), sign="Y", key="Y", style=VERIFICATION_STYLE)
    read = Spec(("verification",), style=VERIFICATION_STYLE)
    fr = Spec(("verification:fr",), style=VERIFICATION_STYLE)
    lookup = Spec(("verification:bank_lookup",), style=VERIFICATION_STYLE)
    return [
        api_route(api, _AHV, "POST", signed, _create_ahv(store)),
        api_route(api, _AHV + "/{id}", "GET", read, _get_ahv(store)),
        api_route(api, "/v3/verification/fr/verify-account-details", "POST", fr, _verify_fr),
        api_route(api, "/v3/bank-lookup", "POST", lookup, _bank_lookup),
    ]
