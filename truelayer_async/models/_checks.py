"""attrs validators for request inputs: each raises InvalidParameterError naming the class
and field (``ExternalAccountBeneficiary.reference``) and the rule, never the value."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..errors import InvalidParameterError

__all__ = [
    "REFERENCE_CHARS",
    "check_amount",
    "check_currency",
    "check_metadata",
    "int_between",
    "no_parentheses",
    "of_type",
    "one_of",
    "optional",
    "pattern",
    "reference_text",
    "strings",
    "text",
]

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

#: TrueLayer's reference character set: letters, digits, space and - : ( ) . , ' + ? /
REFERENCE_CHARS = re.compile(r"[a-zA-Z0-9\-:().,'+ ?/]+")
_NO_PARENTHESES = re.compile(r"[^()]+")


def _fail(instance: Any, attribute: attrs.Attribute[Any], rule: str) -> InvalidParameterError:
    return InvalidParameterError(f"{type(instance).__name__}.{attribute.name}: {rule}")


def text(*, max_len: int | None = None, min_len: int = 1) -> Validator:
    """A string of ``min_len``..``max_len`` characters."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str):
            raise _fail(instance, attribute, "must be a string")
        if len(value) < min_len:
            raise _fail(instance, attribute, f"must be at least {min_len} character(s)")
        if max_len is not None and len(value) > max_len:
            raise _fail(instance, attribute, f"must be at most {max_len} characters")

    return check


def pattern(regex: re.Pattern[str], rule: str) -> Validator:
    """A string matching ``regex`` in full (``rule`` says what that means, for the error)."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str) or regex.fullmatch(value) is None:
            raise _fail(instance, attribute, rule)

    return check


def no_parentheses(max_len: int) -> list[Validator]:
    """A name of 1..``max_len`` characters without ``(`` or ``)``."""
    return [text(max_len=max_len), pattern(_NO_PARENTHESES, "must not contain parentheses")]


def reference_text(max_len: int) -> list[Validator]:
    """A reference of 1..``max_len`` characters from :data:`REFERENCE_CHARS`."""
    rule = "may only hold letters, digits, spaces and - : ( ) . , ' + ? /"
    return [text(max_len=max_len), pattern(REFERENCE_CHARS, rule)]


def one_of(*allowed: str) -> Validator:
    """One of ``allowed``."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in allowed:
            raise _fail(instance, attribute, f"must be one of {', '.join(allowed)}")

    return check


def int_between(low: int, high: int | None = None) -> Validator:
    """An ``int`` (not ``bool``) in ``low``..``high``."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if type(value) is not int or value < low or (high is not None and value > high):
            upper = "" if high is None else f" and at most {high}"
            raise _fail(instance, attribute, f"must be an integer at least {low}{upper}")

    return check


def strings(*, min_items: int = 0) -> Validator:
    """A tuple of strings with at least ``min_items`` items."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, tuple) or not all(isinstance(item, str) for item in value):
            raise _fail(instance, attribute, "must be a sequence of strings")
        if len(value) < min_items:
            raise _fail(instance, attribute, f"must hold at least {min_items} item(s)")

    return check


def of_type(*types: type) -> Validator:
    """An instance of one of ``types``."""
    names = " or ".join(t.__name__ for t in types)

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, types):
            raise _fail(instance, attribute, f"must be a {names}")

    return check


def optional(*validators: Validator) -> Validator:
    """``None``, or a value passing every validator."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            for validator in validators:
                validator(instance, attribute, value)

    return check


# -- checks for plain arguments (service keyword arguments) -----------------------------


def check_amount(name: str, value: Any, low: int = 1) -> None:
    """``value`` is an ``int`` ≥ ``low`` (minor units)."""
    if type(value) is not int or value < low:
        raise InvalidParameterError(
            f"{name} must be an integer amount in minor units, at least {low}"
        )


def check_currency(name: str, value: Any, allowed: tuple[str, ...] = ("GBP", "EUR")) -> None:
    """``value`` is one of ``allowed`` (payments take GBP or EUR)."""
    if value not in allowed:
        raise InvalidParameterError(f"{name} must be one of {', '.join(allowed)}")


MAX_METADATA_PAIRS = 10
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500


def check_metadata(name: str, value: Any) -> None:
    """At most 10 string pairs, keys ≤ 40 characters, values ≤ 500 (TrueLayer's limits)."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise InvalidParameterError(f"{name} must be a mapping of strings to strings")
    if len(value) > MAX_METADATA_PAIRS:
        raise InvalidParameterError(f"{name} holds at most {MAX_METADATA_PAIRS} pairs")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise InvalidParameterError(f"{name} must map strings to strings")
        if not 1 <= len(key) <= MAX_METADATA_KEY:
            raise InvalidParameterError(f"{name} keys must be 1 to {MAX_METADATA_KEY} characters")
        if len(item) > MAX_METADATA_VALUE:
            raise InvalidParameterError(
                f"{name} values must be at most {MAX_METADATA_VALUE} characters"
            )
