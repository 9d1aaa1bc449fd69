"""``ControlError``: bad input to a control route (``/_emulator/…``), raised by every
control module and answered by the control app."""

from __future__ import annotations

__all__ = ["ControlError"]


class ControlError(Exception):
    """Bad input to a control route: answered 400 (or ``status``)."""

    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
