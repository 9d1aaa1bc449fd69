"""Verification API v1: ``POST /verification/v1/verify`` with a user token.

The name is compared with the persona's account holder name (``John Doe``): both are
lower-cased, stripped of punctuation and titles (Mr, Mrs, Ms, Dr), and scored 0-100 as
the best of (a) 100 when the words match in any order, (b) 90 when the given name is an
initial of the holder's first name and the surnames match, and (c) the
``difflib.SequenceMatcher`` ratio. ``verified`` means a score of at least 80. Current and
savings accounts are verifiable; cards are reported as ``CREDIT_CARD`` failures.

Errors are ``application/problem+json`` with ``traceId``: 401 for a missing, unknown,
superseded or expired token; 403 without the ``verification`` scope or when consent was
revoked or expired; 400 for a body that is not a JSON object, a missing or empty
``name`` or one longer than 200 characters. Error personas fail with their status.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ._body import BodyError, read_json_object
from ._data import BankData
from ._responses import json_response, problem
from ._state import FakeState, TokenRejected

__all__ = ["match_score", "routes"]

_INSTANCE = "/verification/v1/verify"
_TITLES = {"mr", "mrs", "ms", "miss", "dr", "mx"}
_THRESHOLD = 80


def _words(name: str) -> list[str]:
    cleaned = re.sub(r"[^\w\s]", " ", name.lower())
    return [word for word in cleaned.split() if word not in _TITLES]


def match_score(given: str, holder: str) -> int:
    """How well ``given`` matches ``holder``, 0-100."""
    a, b = _words(given), _words(holder)
    if not a or not b:
        return 0
    if sorted(a) == sorted(b):
        return 100
    if len(a) >= 2 and len(a[0]) == 1 and a[-1] == b[-1] and b[0].startswith(a[0]):
        return 90
    return round(100 * SequenceMatcher(None, " ".join(a), " ".join(b)).ratio())


def routes(state: FakeState) -> list[BaseRoute]:
    """The verification route."""

    async def verify(request: Request) -> Response:
        with state.lock:
            try:
                connection = state.authenticate(request.headers.get("authorization"))
            except TokenRejected as exc:
                if exc.is_consent:
                    return _problem(403, "Forbidden", "Consent expired or revoked.")
                return _problem(401, "Unauthorized", "Access token missing or invalid.")
            if "verification" not in connection.scopes:
                return _problem(403, "Forbidden", "The token lacks the verification scope.")
        try:
            body = await read_json_object(request)
        except BodyError as exc:
            return _invalid({"body": [str(exc)]})
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            return _invalid({"name": ["The Name field is required."]})
        if len(name) > 200:
            return _invalid(
                {"name": ["The field Name must be a string with a maximum length of 200."]}
            )
        with state.lock:
            persona = connection.persona
            if persona.error:
                return _problem(persona.error_status, persona.error, persona.error_description)
            return json_response(_report(connection.provider_id, connection.data(), name))

    return [Route("/verification/v1/verify", verify, methods=["POST"])]


def _problem(status: int, title: str, detail: str) -> Response:
    return problem(status, title=title, detail=detail, instance=_INSTANCE, trace_key="traceId")


def _invalid(errors: dict[str, list[str]]) -> Response:
    return problem(
        400,
        title="One or more validation errors occurred.",
        instance=_INSTANCE,
        errors=errors,
        trace_key="traceId",
    )


def _report(provider_id: str, data: BankData, name: str) -> dict[str, Any]:
    score = match_score(name, data.holder_name)
    verified = score >= _THRESHOLD
    report: list[dict[str, Any]] = []
    for account in data.accounts:
        report.append(
            {
                "verifiable": True,
                "currency": "GBP",
                "provider_id": provider_id,
                "account_type": "CURRENT" if account.account_type == "TRANSACTION" else "SAVINGS",
                "account_holders": [
                    {"name": data.holder_name, "verified": verified, "match_score": score}
                ],
                "display_name": account.display_name,
                "iban": account.iban,
                "swift_bic": "MOCKGB21",
                "account_number": account.number,
                "sort_code": account.sort_code,
            }
        )
    for card in data.cards or ():
        report.append(
            {
                "verifiable": False,
                "failure_description": "Credit cards cannot be verified by this service.",
                "failure_code": "CREDIT_CARD",
                "provider_id": provider_id,
                "account_type": "CREDIT_CARD",
                "display_name": card.display_name,
            }
        )
    return {
        "verified": verified,
        "account_holder_name": data.holder_name,
        "match_score": score,
        "report": report,
    }
