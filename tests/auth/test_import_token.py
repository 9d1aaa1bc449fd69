"""``tl.auth.import_token``: adopting a connection made outside the SDK (migration)."""

from __future__ import annotations

import pytest

from truelayer_async import TokenType
from truelayer_async import errors as e
from truelayer_async.testing import FakeTrueLayer


@pytest.mark.anyio
async def test_an_imported_refresh_token_is_refreshed_rotated_and_used() -> None:
    async with FakeTrueLayer() as fake, fake.session() as tl:
        # What an app that called TrueLayer by hand has in its database.
        old = fake.create_connection(username="john")
        await tl.auth.import_token(refresh_token=old["refresh_token"], user="alice")
        accounts = await tl.data.accounts(user="alice")
        assert [a.display_name for a in accounts]
        assert fake.stats["refresh"] == 1  # the unknown access token was refreshed first
        stored = await tl.auth.valid_token(user="alice")
        # Rotation: the SDK holds the new refresh token, and the old one is spent.
        assert stored.refresh_token is not None
        assert stored.refresh_token.get_secret_value() != old["refresh_token"]
        assert stored.refresh_token.get_secret_value() == fake.latest_refresh_token(
            fake.connections[0].credentials_id
        )


@pytest.mark.anyio
async def test_an_imported_live_access_token_is_used_without_a_refresh() -> None:
    async with FakeTrueLayer() as fake, fake.session() as tl:
        old = fake.create_connection(username="john")
        token = await tl.auth.import_token(
            refresh_token=old["refresh_token"],
            access_token=old["access_token"],
            expires_at=fake.clock() + old["expires_in"],
            scopes=old["scope"].split(),
            user="alice",
        )
        assert token.token_type is TokenType.DATA and "accounts" in token.scopes
        await tl.data.accounts(user="alice")
        assert fake.stats["refresh"] == 0


@pytest.mark.anyio
async def test_an_existing_token_is_kept_unless_replace() -> None:
    async with FakeTrueLayer() as fake, fake.session() as tl:
        await fake.connect(tl, user="alice")
        before = await tl.auth.valid_token(user="alice")
        with pytest.raises(e.InvalidParameterError, match="replace=True") as caught:
            await tl.auth.import_token(refresh_token="rt-secret-value", user="alice")
        assert "rt-secret-value" not in str(caught.value)
        assert (await tl.auth.valid_token(user="alice")) == before
        await tl.auth.import_token(refresh_token="rt-secret-value", user="alice", replace=True)
        record = await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, "alice"))
        assert record is not None and record.version == 2
        assert record.token.refresh_token is not None
        assert record.token.refresh_token.get_secret_value() == "rt-secret-value"


@pytest.mark.anyio
async def test_bad_imports_are_refused() -> None:
    async with FakeTrueLayer() as fake, fake.session() as tl:
        with pytest.raises(e.InvalidParameterError, match="refresh_token"):
            await tl.auth.import_token(refresh_token="", user="alice")
        from datetime import datetime

        with pytest.raises(e.InvalidParameterError, match="timezone"):
            await tl.auth.import_token(
                refresh_token="rt", access_token="at", expires_at=datetime(2030, 1, 1)
            )
