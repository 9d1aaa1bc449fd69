"""The emulator's Verification v3 sandbox data: which name and account give which outcome.

Account holder verification (AHV), by the account identifier first, then the name:

* an account number or IBAN ending in ``9999``: the request ``failed``
  (``provider_error``);
* ending in ``0000``: ``match_not_possible`` (``Bank unable to match``);
* any other account is held by ``John Doe`` (the mock bank's persona): the same name
  (case, spaces and punctuation ignored) is a ``match``; a name with the same surname
  (``J Doe``, ``Jon Doe``) a ``partial_match`` carrying ``John Doe``; anything else
  ``no_match``.

French account details: the IBAN ``FR1420041010050500013M02606`` belongs to ``Jean
Dupont``, a ``personal`` account, born ``1980-01-01``, ``active``; an IBAN ending in
``0000`` is ``inactive``; any other IBAN is ``unknown`` to the bank (no name match,
``unknown`` type and birth date). Bank lookup answers a fixed bank per identifier (see
:func:`bank_for`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "AHV_HOLDER",
    "FR_DATE_OF_BIRTH",
    "FR_HOLDER",
    "FR_IBAN",
    "ahv_outcome",
    "bank_for",
    "fr_details",
]

AHV_HOLDER = "John Doe"
FR_IBAN = "FR1420041010050500013M02606"
FR_HOLDER = "Jean Dupont"
FR_DATE_OF_BIRTH = "1980-01-01"
_FAILS = "9999"
_UNMATCHABLE = "0000"


def _account_key(identifier: Mapping[str, Any]) -> str:
    return str(identifier.get("account_number") or identifier.get("iban") or "")


def _words(name: str) -> list[str]:
    return re.sub(r"[^a-z0-9 ]", " ", name.lower()).split()


def _name_match(given: str, holder: str) -> str:
    """``match``, ``partial_match`` (same surname) or ``no_match``."""
    mine, theirs = _words(given), _words(holder)
    if mine == theirs:
        return "match"
    if mine and theirs and mine[-1] == theirs[-1]:
        return "partial_match"
    return "no_match"


def ahv_outcome(name: str, identifier: Mapping[str, Any]) -> tuple[str, dict[str, Any] | str]:
    """``("completed", match_result)`` or ``("failed", failure_reason)``."""
    account = _account_key(identifier)
    if account.endswith(_FAILS):
        return "failed", "provider_error"
    if account.endswith(_UNMATCHABLE):
        return "completed", {"type": "match_not_possible", "reason": "Bank unable to match"}
    kind = _name_match(name, AHV_HOLDER)
    result: dict[str, Any] = {"type": kind}
    if kind == "partial_match":
        result["account_holder_name"] = AHV_HOLDER
    return "completed", result


_SCORES = {"match": 100, "partial_match": 92, "no_match": 40}


def fr_details(body: Mapping[str, Any]) -> dict[str, Any]:
    """The verify-account-details answer for a validated request body."""
    iban = str(body["account_identifier"]["iban"])
    birth = body.get("date_of_birth")
    if iban == FR_IBAN or iban.endswith(_UNMATCHABLE):
        kind = _name_match(str(body["name"]), FR_HOLDER)
        result: dict[str, Any] = {
            "name_match": {"type": kind, "match_score": _SCORES[kind]},
            "account_type_match": {
                "type": "match" if body["account_type"] == "personal" else "no_match"
            },
            "account_status": "active" if iban == FR_IBAN else "inactive",
        }
        if birth is not None:
            result["date_of_birth_match"] = {
                "type": "match" if birth == FR_DATE_OF_BIRTH else "no_match"
            }
        return result
    unknown: dict[str, Any] = {
        "name_match": {"type": "no_match", "match_score": 0},
        "account_type_match": {"type": "unknown"},
        "account_status": "unknown",
    }
    if birth is not None:
        unknown["date_of_birth_match"] = {"type": "unknown"}
    return unknown


#: Sort code prefixes and IBAN countries with a named bank; the rest get a mock bank.
_UK_BANKS = {
    "04": ("MONZGB2LXXX", "MONZO BANK LIMITED"),
    "20": ("BUKBGB22XXX", "BARCLAYS BANK UK PLC"),
}
_IBAN_BANKS = {"FR": ("BNPAFRPPXXX", "BNP PARIBAS"), "DE": ("DEUTDEFFXXX", "DEUTSCHE BANK AG")}


def bank_for(identifier: Mapping[str, Any]) -> dict[str, str]:
    """``{bic, name}`` for a validated identifier, the same every time."""
    if identifier["type"] == "sort_code_account_number":
        bic, name = _UK_BANKS.get(str(identifier["sort_code"])[:2], ("MOCKGB2LXXX", "MOCK BANK"))
    else:
        country = str(identifier["iban"])[:2]
        bic, name = _IBAN_BANKS.get(country, (f"MOCK{country}2LXXX", f"MOCK BANK {country}"))
    return {"bic": bic, "name": name}
