"""``ControlError``: bad input to a control route (``/_emulator/…``), raised by every
control module and answered by the control app; :func:`as_control_errors` turns a
driver's ``LookupError`` / ``ValueError`` into one."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["ControlError", "as_control_errors"]

T = TypeVar("T")


class ControlError(Exception):
    """Bad input to a control route: answered 400 (or ``status``)."""

    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.status = status


def as_control_errors(action: Callable[[], T]) -> T:
    """``action()``, with a ``LookupError`` raised as a 404 ``ControlError`` and a
    ``ValueError`` or ``TypeError`` as a 400, the exception's message as the description."""
    try:
        return action()
    except LookupError as exc:  # a KeyError's str() quotes its message: take the message
        raise ControlError(str(exc.args[0] if exc.args else exc), 404) from None
    except (ValueError, TypeError) as exc:
        raise ControlError(str(exc)) from None
