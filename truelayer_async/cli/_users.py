"""``users`` and ``logout``: what ``login`` saved, listed and removed."""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from .. import errors as e
from ..config import Environment
from ..tokens import TokenKey, TokenType
from ._config import open_session, store_path, where_flags
from ._errors import NETWORK, NOT_FOUND, OK, CliError, hint_command, who_is
from ._output import console, table, write_json

if TYPE_CHECKING:
    from rich.table import Table

    from ..stores import SqliteTokenStore

__all__ = ["StoredUser", "run_logout", "run_users"]

#: TrueLayer expires a refresh token that was not used for this long.
REFRESH_TOKEN_IDLE = 30 * 86_400


@attrs.frozen(kw_only=True)
class StoredUser:
    """One stored data token, described without its secrets."""

    server: str
    client_id: str
    user: str | None
    expires_at: datetime | None = None
    refresh_token: bool = False
    #: Why the user must log in again, or ``None`` if the token is usable.
    login_again: str | None = None
    #: The access token has expired but will be refreshed on next use.
    stale: bool = False


async def _describe(store: SqliteTokenStore, key: TokenKey, now: float) -> StoredUser | None:
    """What ``users`` shows for ``key`` (``None`` if it vanished meanwhile)."""
    server, _, client_id = key.namespace.rpartition("#")
    where: dict[str, Any] = {
        "server": server or key.namespace,
        "client_id": client_id,
        "user": key.user,
    }
    try:
        record = await store.get(key)
    except e.StoreError as exc:
        return StoredUser(**where, login_again=f"unreadable ({exc})")
    if record is None:
        return None
    token = record.token
    expired = token.is_expired(now, leeway=0)
    reason = None
    if record.invalid:
        reason = f"TrueLayer refused it ({record.invalid_reason or 'invalid'})"
    elif expired and token.refresh_token is None:
        reason = "expired, and there is no refresh token"
    elif expired and record.updated_at and now - record.updated_at > REFRESH_TOKEN_IDLE:
        reason = "refresh token unused for over 30 days"
    return StoredUser(
        **where,
        expires_at=token.expires_at,
        refresh_token=token.refresh_token is not None,
        login_again=reason,
        stale=expired and reason is None,
    )


async def stored_users(store: SqliteTokenStore) -> list[StoredUser]:
    """Every user with a data token in ``store``, by server, client and name."""
    listed = await store.keys()
    now = time.time()
    found = []
    for key in listed:
        if key.token_type is TokenType.DATA:
            described = await _describe(store, key, now)
            if described is not None:
                found.append(described)
    return sorted(found, key=lambda u: (u.server, u.client_id, u.user or ""))


def _server_flags(server: str) -> tuple[str, ...]:
    for env in (Environment.SANDBOX, Environment.PRODUCTION):
        if server == env.auth_url:
            return ("--environment", env.name)
    return ("--auth-url", server)


async def run_users(args: argparse.Namespace) -> int:
    """List the stored users, one table per server and client."""
    path = store_path(args)
    found: list[StoredUser] = []
    if path.exists():  # else nothing was ever stored: do not create the file
        from ..stores import SqliteTokenStore

        async with SqliteTokenStore(path) as store:
            found = await stored_users(store)
    if args.format == "json":
        write_json([_as_json(u) for u in found])
        return OK
    out = console()
    if not found:
        out.print(
            f"No users are stored in {path}: connect one with "
            f"`{hint_command('login', where_flags(args), 'NAME')}`."
        )
        return OK
    groups: dict[tuple[str, str], list[StoredUser]] = {}
    for user in found:
        groups.setdefault((user.server, user.client_id), []).append(user)
    for (server, client_id), users in groups.items():
        flags = (*_server_flags(server), *where_flags(args))
        out.print(_users_table(server, client_id, users, flags))
    return OK


def _users_table(
    server: str, client_id: str, users: list[StoredUser], flags: tuple[str, ...]
) -> Table:
    hints = [
        f"`{hint_command('login', flags, u.user)}`" for u in users if u.login_again is not None
    ]
    caption = ("log in again with: " + ", ".join(hints)) if hints else None
    out = table(f"Users of {server} (client {client_id})", caption=caption)
    out.add_column("User", no_wrap=True)
    out.add_column("Access token expires", no_wrap=True)
    out.add_column("Refresh token", no_wrap=True)
    out.add_column("Status")
    for u in users:
        if u.login_again is not None:
            status = f"log in again: {u.login_again}"
        else:
            status = "ok, refreshed on next use" if u.stale else "ok"
        out.add_row(
            "-" if u.user is None else u.user,
            "-" if u.expires_at is None else f"{u.expires_at:%Y-%m-%d %H:%M} UTC",
            "yes" if u.refresh_token else "no",
            status,
        )
    return out


def _as_json(user: StoredUser) -> dict[str, Any]:
    return {
        "server": user.server,
        "client_id": user.client_id,
        "user": user.user,
        "expires_at": None if user.expires_at is None else user.expires_at.isoformat(),
        "refresh_token": user.refresh_token,
        "needs_login": user.login_again is not None,
        "reason": user.login_again,
    }


async def run_logout(args: argparse.Namespace) -> int:
    """Delete the user's connection at TrueLayer, then the stored token."""
    path = store_path(args)
    who = who_is(args.user)
    listing = hint_command("users", ("--store", args.store) if args.store else ())
    nothing = CliError(
        f"no token is stored for {who} in {path}: nothing to log out (see `{listing}`)",
        NOT_FOUND,
    )
    if not path.exists():
        raise nothing
    async with open_session(args) as tl:
        key = tl._core.tokens.key(TokenType.DATA, args.user)
        if await tl.token_store.get(key) is None:
            raise nothing
        try:
            await tl.auth.delete_credential(user=args.user)
        except (e.TransportError, e.TokenEndpointUnavailable) as exc:
            raise CliError(
                f"TrueLayer could not be reached to delete the connection of {who} ({exc}); "
                "the token is kept: run logout again later",
                NETWORK,
            ) from None
        except (e.ReauthorizationRequired, e.AuthApiError) as exc:
            if not _already_gone(exc):
                raise
            await tl._core.tokens.forget(key)
            console().print(
                f"TrueLayer no longer accepts the connection of {who} (already revoked or "
                f"expired: {exc}); the token was removed from {path}."
            )
            return OK
    console().print(
        f"Logged out {who}: the connection was deleted at TrueLayer and the token removed "
        f"from {path}."
    )
    return OK


def _already_gone(exc: e.ApiError) -> bool:
    """Whether TrueLayer refused because the connection is already dead (not because of
    our client credentials or an outage)."""
    if isinstance(exc, e.ReauthorizationRequired):
        return True
    return not isinstance(exc, e.InvalidClientError) and exc.status_code in (401, 403)
