"""Exit codes, and one clear line on stderr for every error a user can expect.

==== =====================================================================================
code meaning
==== =====================================================================================
0    success
1    a failure not covered below (an API error, a malformed response, a token store error)
2    usage: bad arguments, missing credentials or configuration, a missing extra
3    authorisation needed or refused: no token (run login first), consent expired or
     revoked (run login again), consent denied, wrong client credentials
4    not found: an unknown account or card id
5    network: TrueLayer could not be reached (connection refused, timeout) or its token
     endpoint kept failing
6    partial: ``fetch-all`` finished but one or more users failed
10   ``verify``: a partial match (the bank holds a close name, which is printed)
11   ``verify``: no match
12   ``verify``: the bank could not match (match not possible, with its reason)
13   ``verify``: the check failed (with its reason)
130  interrupted (Ctrl-C)
==== =====================================================================================
"""

from __future__ import annotations

import shlex

import attrs

from .. import errors as e

__all__ = [
    "AUTH",
    "FAILURE",
    "INTERRUPTED",
    "MATCH_NOT_POSSIBLE",
    "NETWORK",
    "NOT_FOUND",
    "NO_MATCH",
    "OK",
    "PARTIAL",
    "PARTIAL_MATCH",
    "USAGE",
    "VERIFICATION_FAILED",
    "CliError",
    "ErrorContext",
    "describe",
    "hint_command",
    "unwrap",
]

OK = 0
FAILURE = 1
USAGE = 2
AUTH = 3
NOT_FOUND = 4
NETWORK = 5
PARTIAL = 6
#: ``verify``'s answers other than a match (a result, not an error: printed on stdout).
PARTIAL_MATCH = 10
NO_MATCH = 11
MATCH_NOT_POSSIBLE = 12
VERIFICATION_FAILED = 13
INTERRUPTED = 130


class CliError(Exception):
    """An error found by the command itself, with its message and exit code."""

    def __init__(self, message: str, code: int = FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@attrs.frozen
class ErrorContext:
    """What the command was doing, to make messages concrete."""

    user: str | None = None
    account_id: str | None = None
    store: str | None = None
    #: The flags that chose the server, client and store (``where_flags(args)``).
    flags: tuple[str, ...] = ()


def unwrap(exc: BaseException) -> BaseException:
    """The first leaf of an exception group (task groups wrap errors in one)."""
    while any(c.__name__ == "BaseExceptionGroup" for c in type(exc).__mro__):
        inner = getattr(exc, "exceptions", ())
        if not inner:
            break
        exc = inner[0]
    return exc


def who_is(user: str | None) -> str:
    """How messages name a stored user."""
    return "the default user" if user is None else f"user {user!r}"


def hint_command(command: str, flags: tuple[str, ...] = (), user: str | None = None) -> str:
    """``truelayer-async COMMAND FLAGS [--user USER]``, quoted to be pasted as it is."""
    words = ["truelayer-async", command, *flags]
    if user is not None:
        words += ["--user", user]
    return shlex.join(words)


def describe(exc: BaseException, ctx: ErrorContext | None = None) -> tuple[str, int]:
    """The one-line message and the exit code for ``exc``.

    The SDK's messages hold no secrets (status codes, error codes, descriptions and
    correlation ids only), so they can be shown as they are.
    """
    ctx = ctx or ErrorContext()
    exc = unwrap(exc)
    if isinstance(exc, CliError):
        return exc.message, exc.code
    login = f"`{hint_command('login', ctx.flags, ctx.user)}`"
    if isinstance(exc, e.NoTokenError):
        where = f" in {ctx.store}" if ctx.store else ""
        return f"no token is stored for {who_is(ctx.user)}{where}: run login first ({login})", AUTH
    if isinstance(exc, e.ReauthorizationRequired):
        return (
            f"the bank connection of {who_is(ctx.user)} needs re-authorisation "
            f"(consent expired or revoked; reason: {exc.reason}): run login again ({login})",
            AUTH,
        )
    if isinstance(exc, e.AuthorizationDenied):
        return f"{exc}: the bank connection was not made; run login again ({login})", AUTH
    if isinstance(exc, e.StateMismatchError):
        return (
            f"the redirect does not belong to this login ({exc}); run login again ({login})",
            AUTH,
        )
    if isinstance(exc, e.AuthorizationCallbackError):
        return f"the redirect from the bank is unusable ({exc}); run login again ({login})", AUTH
    if isinstance(exc, e.CodeExchangeOutcomeUnknown):
        return (
            f"network failure during the code exchange ({exc}); run login again ({login})",
            NETWORK,
        )
    if isinstance(exc, e.InvalidClientError):
        return (
            f"TrueLayer refused the client credentials ({exc}): check TRUELAYER_CLIENT_ID, "
            "TRUELAYER_CLIENT_SECRET and the server (--environment or --auth-url)",
            AUTH,
        )
    if isinstance(exc, e.AccountNotFoundError):
        what = f"account {ctx.account_id!r}" if ctx.account_id else "the account"
        return (
            f"{what} was not found ({exc}); list the ids with "
            f"`{hint_command('accounts', ctx.flags, ctx.user)}`",
            NOT_FOUND,
        )
    if isinstance(exc, e.TransportError):
        return f"network error: TrueLayer could not be reached ({exc})", NETWORK
    if isinstance(exc, e.TokenEndpointUnavailable):
        return f"TrueLayer's token endpoint is unavailable ({exc}); try again later", NETWORK
    if isinstance(exc, e.RateLimitedError):
        hint = f"; retry after {exc.retry_after:g} s" if exc.retry_after else ""
        return f"rate limited by TrueLayer ({exc}){hint}", FAILURE
    if isinstance(exc, e.ApiError) and exc.status_code == 404:
        return f"not found: {exc}", NOT_FOUND
    if isinstance(exc, e.ApiError):
        return f"TrueLayer answered with an error: {exc}", FAILURE
    if isinstance(exc, (e.ConfigurationError, e.InvalidParameterError)):
        return f"configuration error: {exc}", USAGE
    if isinstance(exc, (e.StoreError, e.TokenPersistenceError, e.TokenStoreBusy)):
        where = f" ({ctx.store})" if ctx.store else ""
        return f"token store error{where}: {exc}", FAILURE
    if isinstance(exc, e.MalformedResponseError):
        return f"unexpected response from TrueLayer: {exc}", FAILURE
    if isinstance(exc, e.TrueLayerError):
        return f"{type(exc).__name__}: {exc}", FAILURE
    return f"unexpected error: {type(exc).__name__}: {exc}", FAILURE
