"""Which scopes each Data API endpoint needs, checked before a request is sent."""

from __future__ import annotations

from .. import errors as e

__all__ = ["check_scopes", "required_scopes"]

# The first path segment's scope, and the scope of a sub-resource under an id.
_RESOURCE_SCOPES = {"accounts": "accounts", "cards": "cards", "info": "info"}
_SUB_RESOURCE_SCOPES = {
    "balance": "balance",
    "transactions": "transactions",
    "standing_orders": "standing_orders",
    "direct_debits": "direct_debits",
}


def required_scopes(path: str) -> tuple[str, ...]:
    """The scopes a Data API v1 path (relative to ``/data/v1``) needs; ``()`` for ``/me``.

    ``/accounts/{id}/balance`` needs ``accounts`` and ``balance``, as TrueLayer's scope
    table says (sub-resources need their parent's scope too).
    """
    parts = path.strip("/").split("/")
    resource = _RESOURCE_SCOPES.get(parts[0])
    if resource is None:
        return ()
    sub = _SUB_RESOURCE_SCOPES.get(parts[2]) if len(parts) > 2 else None
    return (resource, sub) if sub else (resource,)


def check_scopes(granted: tuple[str, ...], needed: tuple[str, ...]) -> None:
    """Raise ``InsufficientScopeError`` when the token's ``granted`` scopes lack one of
    ``needed``.

    Scopes that are unknown (``()``: the token response had no ``scope``) pass: the server
    decides. Takes the scopes, not the token, so no frame of the error holds a secret.
    """
    if not needed or not granted:
        return
    missing = tuple(scope for scope in needed if scope not in granted)
    if missing:
        names = ", ".join(repr(scope) for scope in missing)
        raise e.InsufficientScopeError(
            None,
            "insufficient_scope",
            f"the user's token was not granted the {names} scope(s) this endpoint needs; "
            "ask for them in the auth link and have the user connect again",
            missing_scopes=missing,
        )
