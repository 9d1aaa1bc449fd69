"""The :class:`~truelayer_async.Environment` of an emulator at a base URL: its API, its
hosted pages and its webhook key set. Importing this module is cheap (no Starlette)."""

from __future__ import annotations

from ..config import Environment
from ..webhooks import EMULATOR_KEY_SET_PATH

__all__ = ["HOSTED_PAGE_PATH", "KEY_SET_PATH", "emulator_environment", "key_set_url_at"]

#: Where the emulator serves its webhook key set (the ``jku`` of its signatures): the
#: SDK's public ``truelayer_async.webhooks.EMULATOR_KEY_SET_PATH``.
KEY_SET_PATH = EMULATOR_KEY_SET_PATH
#: Where the emulator serves its hosted pages (payments, mandates and payouts).
HOSTED_PAGE_PATH = "/hpp"


def emulator_environment(
    auth_url: str, api_url: str | None = None, *, name: str = "fake"
) -> Environment:
    """An emulator's environment: ``auth_url`` and ``api_url`` (default: the same), with
    the hosted pages and the webhook key set (``webhook_jwks_url``, the only ``jku``
    ``tl.webhooks`` accepts by default) at the API URL.

    ``FakeTrueLayer.environment`` is built by this function; use it directly for an
    emulator served by another process (``python -m truelayer_async.testing``,
    ``truelayer-async fake-server``)::

        Session(client_id, secret, environment=emulator_environment("http://127.0.0.1:8765"))
    """
    api = (api_url or auth_url).rstrip("/")
    return Environment.custom(
        auth_url,
        api,
        name=name,
        webhook_jwks_url=key_set_url_at(api),
        hosted_page_url=api + HOSTED_PAGE_PATH,
        payouts_page_url=api + HOSTED_PAGE_PATH,
    )


def key_set_url_at(api_url: str) -> str:
    """The webhook key set URL (``jku``) of an emulator whose API is at ``api_url``: the
    ``webhook_jwks_url`` of its :func:`emulator_environment`."""
    return api_url.rstrip("/") + KEY_SET_PATH
