"""A local TrueLayer emulator for tests, examples and offline development.

``FakeTrueLayer`` is a Starlette ASGI app that plays TrueLayer's auth server (auth link,
a real HTML auth dialog with the sandbox's mock users, ``/connect/token``,
``/api/delete``, ``/api/providers``), the Data API v1, ``/connections/extend`` and the
Verification API v1, all in memory and driven by a ``FakeClock``::

    from truelayer_async.testing import FakeTrueLayer, complete_consent

    async with FakeTrueLayer() as fake:
        client = fake.http_client()
        result = await complete_consent(client, auth_link)   # code=… in result.params

To give a Session a connected user in one line (the real dialog, in-process or served)::

    async with fake.session() as tl:
        await fake.connect(tl, user="alice", username="john")

``complete_payment(client, created.hosted_page.uri)`` does the same for the hosted
payment page and the mock bank (the username decides the outcome).

``PERSONAS`` lists the mock bank's users and ``ERROR_PERSONAS`` the ``error.<code>`` ones.
Run it as a server with ``python -m truelayer_async.testing --port 8765`` (its clock then
follows real time) and drive it from any process through its control API under
``/_emulator/`` (``EmulatorControl``, or ``fake.control()``). The pytest plugin provides
the ``truelayer_fake`` and ``truelayer_fake_server`` fixtures.

Names are imported lazily so that loading the pytest plugin stays cheap; the emulator
needs the ``testing`` extra (starlette, uvicorn, pyjwt, python-multipart).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._constants import (
    DATA_SCOPES,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    DEFAULT_REDIRECT_URIS,
)

if TYPE_CHECKING:
    from ._clock import FakeClock, LiveClock
    from ._environment import emulator_environment
    from ._fake import FakeTrueLayer
    from ._personas import ERROR_PERSONAS, PERSONAS, ErrorPersona, MockUser
    from ._records import RequestRecord, WebhookAttempt, WebhookRecord
    from ._state import Connection
    from .consent import ConsentFlowError, ConsentResult, complete_consent
    from .control import ClockReading, EmulatorControl, EmulatorControlError
    from .hosted_payment import PaymentPageError, PaymentPageResult, complete_payment

__all__ = [
    "DATA_SCOPES",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_REDIRECT_URI",
    "DEFAULT_REDIRECT_URIS",
    "ERROR_PERSONAS",
    "PERSONAS",
    "ClockReading",
    "Connection",
    "ConsentFlowError",
    "ConsentResult",
    "EmulatorControl",
    "EmulatorControlError",
    "ErrorPersona",
    "FakeClock",
    "FakeTrueLayer",
    "LiveClock",
    "MockUser",
    "PaymentPageError",
    "PaymentPageResult",
    "RequestRecord",
    "WebhookAttempt",
    "WebhookRecord",
    "complete_consent",
    "complete_payment",
    "emulator_environment",
]

_LAZY = {
    "FakeClock": "._clock",
    "LiveClock": "._clock",
    "ClockReading": ".control",
    "EmulatorControl": ".control",
    "EmulatorControlError": ".control",
    "FakeTrueLayer": "._fake",
    "ERROR_PERSONAS": "._personas",
    "PERSONAS": "._personas",
    "ErrorPersona": "._personas",
    "MockUser": "._personas",
    "RequestRecord": "._records",
    "WebhookAttempt": "._records",
    "WebhookRecord": "._records",
    "Connection": "._state",
    "ConsentFlowError": ".consent",
    "ConsentResult": ".consent",
    "complete_consent": ".consent",
    "PaymentPageError": ".hosted_payment",
    "PaymentPageResult": ".hosted_payment",
    "complete_payment": ".hosted_payment",
    "emulator_environment": "._environment",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
