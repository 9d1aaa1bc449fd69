"""``POST {api_host}/connections/extend`` (UK only)."""

from __future__ import annotations

import attrs

from .enums import ActionNeeded

__all__ = ["ExtendResult"]


@attrs.frozen(kw_only=True)
class ExtendResult:
    """The 200 answer of ``POST /connections/extend``, discriminated by ``action_needed``.

    * ``NO_ACTION_NEEDED``: the connection was extended and a new token pair is included
      (the auth service stores it; the token fields never appear in ``repr``).
    * ``AUTHENTICATION_NEEDED`` / ``RECONFIRMATION_OF_CONSENT_NEEDED``: send the user to
      ``user_input_link``.

    Attributes:
        action_needed: an ``ActionNeeded``, or an unknown value as ``str``.
        user_input_link: where the user must go next, when action is needed.
        access_token: new access token (``no_action_needed`` only).
        refresh_token: new refresh token (``no_action_needed`` only).
        expires_in: lifetime of ``access_token`` in seconds.
        token_type: ``Bearer``.
    """

    action_needed: ActionNeeded | str
    user_input_link: str | None = None
    access_token: str | None = attrs.field(default=None, repr=False)
    refresh_token: str | None = attrs.field(default=None, repr=False)
    expires_in: int | None = None
    token_type: str | None = None
