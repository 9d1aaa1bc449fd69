"""``tl.hosted_page``: links to TrueLayer's hosted pages (HPP for payments and mandates,
HP2 for verified payouts), built locally and correctly encoded.

Every parameter goes in the URL *fragment*, as TrueLayer documents: browsers never send
a fragment to a server, so the resource token reaches only the page's own script.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlsplit

from .. import errors as e
from .._secret import Secret

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["MAX_WAIT_FOR_RESULT", "HostedPageService"]

#: The longest ``max_wait_for_result`` TrueLayer honours, in seconds.
MAX_WAIT_FOR_RESULT = 60


class HostedPageService:
    """Builds hosted-page links. Reached as ``tl.hosted_page``; sends no request.

    The page lives at the environment's ``hosted_page_url`` (payments and mandates) or
    ``payouts_page_url`` (payouts). ``return_uri`` must be on your Console allow-list;
    TrueLayer sends the user there when the journey ends.
    """

    def __init__(self, core: Core) -> None:
        self._core = core

    def payment_url(
        self,
        *,
        payment_id: str,
        resource_token: str | Secret,
        return_uri: str,
        max_wait_for_result: int | None = None,
        signup: bool | None = None,
    ) -> str:
        """The hosted payment page for a payment (``tl.payments.create``'s ``id`` and
        ``resource_token``).

        ``max_wait_for_result``: seconds (0-60) the result screen waits for a final
        status before returning the user. ``signup``: show Signup+ wording.
        """
        extra: dict[str, str] = {}
        if max_wait_for_result is not None:
            if (
                isinstance(max_wait_for_result, bool)
                or not isinstance(max_wait_for_result, int)
                or not 0 <= max_wait_for_result <= MAX_WAIT_FOR_RESULT
            ):
                raise e.InvalidParameterError(
                    f"max_wait_for_result must be an int from 0 to {MAX_WAIT_FOR_RESULT}"
                )
            extra["max_wait_for_result"] = str(max_wait_for_result)
        if signup is not None:
            if not isinstance(signup, bool):
                raise e.InvalidParameterError("signup must be a bool")
            extra["signup"] = "true" if signup else "false"
        return self._link("payments", "payment_id", payment_id, resource_token, return_uri, extra)

    def mandate_url(
        self, *, mandate_id: str, resource_token: str | Secret, return_uri: str
    ) -> str:
        """The hosted page on which the user authorises a mandate."""
        return self._link("mandates", "mandate_id", mandate_id, resource_token, return_uri, {})

    def payout_url(self, *, payout_id: str, resource_token: str | Secret, return_uri: str) -> str:
        """The hosted page (HP2) on which the user picks the account a verified
        (user-determined) payout goes to."""
        return self._link(
            "payouts", "payout_id", payout_id, resource_token, return_uri, {}, payouts=True
        )

    def _link(
        self,
        page: str,
        id_name: str,
        ident: str,
        resource_token: str | Secret,
        return_uri: str,
        extra: dict[str, str],
        *,
        payouts: bool = False,
    ) -> str:
        environment = self._core.environment
        base = environment.payouts_page_url if payouts else environment.hosted_page_url
        if base is None:
            setting = "payouts_page_url" if payouts else "hosted_page_url"
            raise e.ConfigurationError(
                f"the {environment.name} environment has no {setting}: pass "
                f"Environment.custom(..., {setting}=...)"
            )
        if not isinstance(ident, str) or not ident.strip():
            raise e.InvalidParameterError(f"{id_name} must be a non-empty string")
        token = Secret.of(resource_token)
        if not token:
            raise e.InvalidParameterError("resource_token must be a non-empty string")
        _check_return_uri(return_uri)
        fragment = urlencode(
            {
                id_name: ident,
                "resource_token": token.get_secret_value(),
                "return_uri": return_uri,
                **extra,
            },
            quote_via=quote,
            safe="",
        )
        return f"{base}/{page}#{fragment}"


def _check_return_uri(uri: str) -> None:
    parts = urlsplit(uri) if isinstance(uri, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise e.InvalidParameterError("return_uri must be an absolute http(s) URL")
