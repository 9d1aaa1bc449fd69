"""``FakeTrueLayer.connect``: one call that connects a mock user to a Session, for real.

It walks the same journey as a user would: an auth link with PKCE, the emulator's dialog
and mock bank pages (through :func:`complete_consent`), the callback check and the code
exchange, so the token lands in the Session's token store under ``user``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import httpx

from ._constants import DATA_SCOPES, FAKE_AUTH_URL
from ._personas import default_password
from .consent import ConsentFlowError, complete_consent

if TYPE_CHECKING:
    from .._auth_link import AuthLink
    from ..session import Session
    from ..tokens import Token
    from ._fake import FakeTrueLayer

__all__ = ["connect_user"]


def _dialog_client(fake: FakeTrueLayer, session: Session) -> httpx.AsyncClient:
    """A browser-like client for the dialog: in-process or over loopback, as the Session."""
    auth_url = session.environment.auth_url.rstrip("/")
    if auth_url == FAKE_AUTH_URL:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=fake))
    if fake.base_url is not None and auth_url == fake.base_url.rstrip("/"):
        return httpx.AsyncClient(trust_env=False)
    raise ValueError(
        f"this Session talks to {auth_url}, not to this FakeTrueLayer: create it with "
        "fake.session() or with environment=fake.environment"
    )


async def _callback_code(
    client: httpx.AsyncClient,
    session: Session,
    link: AuthLink,
    *,
    username: str,
    password: str,
    provider_id: str,
) -> str:
    """Click through the dialog and return the checked code (in its own frame, so the
    caller holds no local with the code)."""
    result = await complete_consent(
        client, link.url, username=username, password=password, provider_id=provider_id
    )
    if result.error is not None:
        raise ConsentFlowError(f"the dialog redirected with error={result.error}")
    return session.auth.parse_callback(result.params, expected_state=link.state)


async def connect_user(
    fake: FakeTrueLayer,
    session: Session,
    *,
    user: str | None,
    username: str,
    password: str | None,
    scopes: Iterable[str] | None,
    provider_id: str,
) -> Token:
    """See :meth:`FakeTrueLayer.connect`."""
    if password is None:
        password = default_password(username)
    wanted = tuple(DATA_SCOPES if scopes is None else scopes)
    async with _dialog_client(fake, session) as client:
        link = session.auth.auth_link(scopes=wanted, pkce=True, providers=provider_id)
        # The code goes straight from the dialog into the exchange: no local holds it.
        return await session.auth.exchange_code(
            await _callback_code(
                client,
                session,
                link,
                username=username,
                password=password,
                provider_id=provider_id,
            ),
            user=user,
            code_verifier=link.code_verifier,
        )
