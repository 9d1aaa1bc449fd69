"""A wrapper that keeps secrets out of reprs, logs, exception messages and f-strings."""

from __future__ import annotations

import hmac
from typing import Any, final

__all__ = ["Secret"]


@final
class Secret:
    """A secret string (client secret, token, code, PKCE verifier).

    ``repr``, ``str`` and ``format`` show ``'**********'`` followed by at most the last four
    characters of long values, so two secrets can be told apart in a log without
    revealing either. Call :meth:`get_secret_value` to use the value. Equality is
    constant time.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret holds a str")
        self._value = value

    @classmethod
    def of(cls, value: str | Secret) -> Secret:
        """Wrap ``value`` unless it already is a Secret."""
        return value if isinstance(value, Secret) else cls(value)

    def get_secret_value(self) -> str:
        """The real value. Never log it."""
        return self._value

    def _masked(self) -> str:
        if len(self._value) >= 32:
            return f"**********{self._value[-4:]}"
        return "**********"

    def __repr__(self) -> str:
        return f"Secret('{self._masked()}')"

    def __str__(self) -> str:
        return self._masked()

    def __format__(self, spec: str) -> str:
        return format(self._masked(), spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secret, (self._value,))
