"""A child process for the read-cache tests: another process that rotates a token."""

from __future__ import annotations

import asyncio

from tests.stores._child import Conn, StoreSpec, digest
from truelayer_async import Environment, Session
from truelayer_async.stores import RedisTokenStore


def rotator(
    conn: Conn, spec: StoreSpec, base_url: str, client: tuple[str, str], user: str
) -> None:
    """Refresh ``user``'s token now, through the shared store; send its new token's digest."""

    async def main() -> str:
        store = spec.open()
        try:
            async with Session(
                client[0], client[1], environment=Environment.custom(base_url), token_store=store
            ) as tl:
                token = await tl.auth.refresh_token(user=user)
                return digest(token.access_token.get_secret_value())
        finally:
            if isinstance(store, RedisTokenStore):
                await store.aclose()

    conn.send(asyncio.run(main()))
