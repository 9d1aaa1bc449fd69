"""``tl.verification``: the Verification API v1 name check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import errors as e
from .._converter import structure
from .._core import UserToken
from .._error_mapping import Api
from .._raw import raw_method
from .._retry import RetryMode
from ..models import VerificationResult

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["RawVerificationService", "VerificationService"]

MAX_NAME = 200


class VerificationService:
    """The Verification API. Reached as ``tl.verification``."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self.with_raw_response = RawVerificationService(self)

    async def verify(self, name: str, *, user: str | None = None) -> VerificationResult:
        """Check ``name`` against the account holders of the user's connection.

        POST /verification/v1/verify with the user's token (obtained with the
        ``verification`` scope). Problem+json errors raise ``VerificationApiError``
        (429 raises ``RateLimitedError``). Like every POST, it is retried only when the
        request never left the machine: a 5xx or a lost answer is raised, not resent.
        """
        if not isinstance(name, str) or not name.strip():
            raise e.InvalidParameterError("name must be a non-empty string")
        if len(name) > MAX_NAME:
            raise e.InvalidParameterError(f"name must be at most {MAX_NAME} characters")
        response = await self._core.authorized_request(
            "POST",
            f"{self._core.environment.api_url}/verification/v1/verify",
            source=UserToken(user),
            api=Api.VERIFICATION,
            json_body={"name": name},
            # Sent means possibly counted (verification may be metered): a POST is retried
            # only if it never left the machine, like every other POST.
            retry_mode=RetryMode.UNSENT_ONLY,
            operation="truelayer.verification.verify",
        )
        return structure(
            response.json(),
            VerificationResult,
            status_code=response.status_code,
            correlation_id=response.correlation_id,
        )


class RawVerificationService:
    """``tl.verification.with_raw_response``: ``verify`` returning a :class:`RawResponse`."""

    def __init__(self, verification: VerificationService) -> None:
        self.verify = raw_method(verification.verify)
