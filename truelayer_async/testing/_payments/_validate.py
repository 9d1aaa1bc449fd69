"""Checking Payments v3 request bodies: each rule adds ``field.path → [message]`` to an
errors map, answered as 400 ``Invalid Parameters`` (unknown fields are ignored, as
TrueLayer does).

Rules (payments-api-v3.json and truelayer-api-v3.md §4.1, §4.3): ``amount_in_minor`` an
integer ≥ 1 (≤ 5,000,000 to a merchant account: the sandbox limit); ``currency`` ``GBP``
or ``EUR``; references only ``a-zA-Z0-9 - : ( ) . , ' + ? /`` and space, external-account
``reference`` and ``statement_reference`` ≤ 18 characters; external-account
``account_holder_name`` ≤ 40 characters without parentheses; sort code 6 digits, account
number 8 digits, IBAN 15–34 characters; ``metadata`` ≤ 10 string pairs, keys ≤ 40 and
values ≤ 500 characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._problems import PaymentsProblem
from ._providers import find

__all__ = [
    "SANDBOX_MERCHANT_LIMIT",
    "Errors",
    "check_payment",
    "check_refund",
    "check_start_flow",
    "raise_if_any",
]

#: The sandbox refuses larger payments into a merchant account (truelayer-api-v3.md §4.14).
SANDBOX_MERCHANT_LIMIT = 5_000_000
REFERENCE = re.compile(r"^[a-zA-Z0-9\-:()\.,'\+ \?/]+$")
_SORT_CODE = re.compile(r"^[0-9]{6}$")
_ACCOUNT_NUMBER = re.compile(r"^[0-9]{8}$")
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


class Errors(dict[str, list[str]]):
    """Field path → messages."""

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def raise_if_any(errors: Errors) -> None:
    """Raise 400 ``Invalid Parameters`` when ``errors`` is not empty."""
    if errors:
        raise PaymentsProblem("invalid_parameters", "The request body was invalid.", errors)


def _object(errors: Errors, body: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    value = body.get(name)
    if not isinstance(value, dict):
        errors.add(
            where, "Required, must be an object." if value is None else "Must be an object."
        )
        return {}
    return value


def string_field(
    errors: Errors,
    body: Mapping[str, Any],
    name: str,
    where: str,
    *,
    required: bool = True,
    max_length: int | None = None,
    pattern: re.Pattern[str] | None = None,
) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            errors.add(where, "Required.")
        return None
    if not isinstance(value, str) or not value:
        errors.add(where, "Must be a non-empty string.")
        return None
    if max_length is not None and len(value) > max_length:
        errors.add(where, f"Must be at most {max_length} characters long.")
    if pattern is not None and not pattern.fullmatch(value):
        errors.add(where, f"Must match {pattern.pattern}.")
    return value


def check_amount(errors: Errors, body: Mapping[str, Any], where: str, *, required: bool) -> None:
    """``amount_in_minor``: an integer of at least 1."""
    value = body.get("amount_in_minor")
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors.add(where, "Must be an integer greater than or equal to 1.")


def check_metadata(errors: Errors, body: Mapping[str, Any]) -> None:
    """``metadata``: at most 10 string pairs, keys ≤ 40 and values ≤ 500 characters."""
    metadata = body.get("metadata")
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        errors.add("metadata", "Must be an object of strings.")
        return
    if len(metadata) > 10:
        errors.add("metadata", "Must have at most 10 entries.")
    for key, value in metadata.items():
        if len(key) > 40:
            errors.add(f"metadata.{key}", "Keys must be at most 40 characters long.")
        if not isinstance(value, str):
            errors.add(f"metadata.{key}", "Values must be strings.")
        elif len(value) > 500:
            errors.add(f"metadata.{key}", "Values must be at most 500 characters long.")


def check_account_identifier(errors: Errors, value: Any, where: str) -> None:
    """A sort code and account number, an IBAN, a BBAN or an NRB."""
    if not isinstance(value, dict):
        errors.add(where, "Required, must be an object.")
        return
    kind = value.get("type")
    if kind == "sort_code_account_number":
        string_field(errors, value, "sort_code", f"{where}.sort_code", pattern=_SORT_CODE)
        string_field(
            errors, value, "account_number", f"{where}.account_number", pattern=_ACCOUNT_NUMBER
        )
    elif kind == "iban":
        string_field(errors, value, "iban", f"{where}.iban", pattern=_IBAN)
    elif kind in ("bban", "nrb"):
        string_field(errors, value, kind, f"{where}.{kind}")
    else:
        errors.add(f"{where}.type", "Must be sort_code_account_number, iban, bban or nrb.")


def _beneficiary(errors: Errors, method: Mapping[str, Any], amount: Any) -> None:
    where = "payment_method.beneficiary"
    beneficiary = _object(errors, method, "beneficiary", where)
    if not beneficiary:
        return
    kind = beneficiary.get("type")
    if kind == "merchant_account":
        string_field(errors, beneficiary, "merchant_account_id", f"{where}.merchant_account_id")
        string_field(
            errors, beneficiary, "reference", f"{where}.reference",
            required=False, max_length=100, pattern=REFERENCE,
        )  # fmt: skip
        string_field(
            errors, beneficiary, "statement_reference", f"{where}.statement_reference",
            required=False, max_length=18, pattern=REFERENCE,
        )  # fmt: skip
        if isinstance(amount, int) and amount > SANDBOX_MERCHANT_LIMIT:
            errors.add("amount_in_minor", "The sandbox limit to a merchant account is 5000000.")
    elif kind == "external_account":
        name = string_field(
            errors, beneficiary, "account_holder_name", f"{where}.account_holder_name",
            max_length=40,
        )  # fmt: skip
        if name is not None and ("(" in name or ")" in name):
            errors.add(f"{where}.account_holder_name", "Must not contain parentheses.")
        string_field(
            errors, beneficiary, "reference", f"{where}.reference",
            max_length=18, pattern=REFERENCE,
        )  # fmt: skip
        check_account_identifier(
            errors, beneficiary.get("account_identifier"), f"{where}.account_identifier"
        )
    else:
        errors.add(f"{where}.type", "Must be either merchant_account or external_account")


def _provider_selection(errors: Errors, method: Mapping[str, Any]) -> None:
    where = "payment_method.provider_selection"
    selection = _object(errors, method, "provider_selection", where)
    if not selection:
        return
    kind = selection.get("type")
    if kind == "preselected":
        provider_id = string_field(errors, selection, "provider_id", f"{where}.provider_id")
        if provider_id is not None and find(provider_id) is None:
            errors.add(f"{where}.provider_id", "Unknown provider.")
        _object(errors, selection, "scheme_selection", f"{where}.scheme_selection")
    elif kind == "user_selected":
        if "filter" in selection and not isinstance(selection["filter"], dict):
            errors.add(f"{where}.filter", "Must be an object.")
    else:
        errors.add(f"{where}.type", "Must be either user_selected or preselected")


def check_payment(body: Mapping[str, Any]) -> Errors:
    """Errors in a create-payment body (``payment_method.type = mandate`` is checked by
    the caller)."""
    errors = Errors()
    check_amount(errors, body, "amount_in_minor", required=True)
    if body.get("currency") not in ("GBP", "EUR"):
        errors.add("currency", "Must be GBP or EUR.")
    _object(errors, body, "user", "user")
    check_metadata(errors, body)
    method = _object(errors, body, "payment_method", "payment_method")
    if method:
        kind = method.get("type")
        if kind == "bank_transfer":
            _provider_selection(errors, method)
            _beneficiary(errors, method, body.get("amount_in_minor"))
        elif kind != "mandate":
            errors.add("payment_method.type", "Must be either bank_transfer or mandate")
    if "hosted_page" in body:
        page = _object(errors, body, "hosted_page", "hosted_page")
        if page:
            string_field(errors, page, "return_uri", "hosted_page.return_uri")
        if "authorization_flow" in body:
            errors.add("hosted_page", "Cannot be combined with authorization_flow.")
    return errors


def check_start_flow(body: Mapping[str, Any], where: str = "") -> Errors:
    """Errors in a start-authorization-flow body (or ``authorization_flow`` on create)."""
    errors = Errors()
    prefix = f"{where}." if where else ""
    if "redirect" not in body:
        errors.add(f"{prefix}redirect", "Required: the emulator's flows end at a bank page.")
    else:
        redirect = _object(errors, body, "redirect", f"{prefix}redirect")
        if redirect:
            string_field(errors, redirect, "return_uri", f"{prefix}redirect.return_uri")
    for name in ("provider_selection", "scheme_selection", "form", "consent"):
        if name in body and not isinstance(body[name], dict):
            errors.add(f"{prefix}{name}", "Must be an object.")
    return errors


def check_refund(body: Mapping[str, Any]) -> Errors:
    """Errors in a create-refund body."""
    errors = Errors()
    check_amount(errors, body, "amount_in_minor", required=False)
    string_field(errors, body, "reference", "reference", max_length=18, pattern=REFERENCE)
    check_metadata(errors, body)
    return errors
