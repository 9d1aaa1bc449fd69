"""PKCE (RFC 7636): S256 only, verifiers from the OS CSPRNG."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from .errors import InvalidParameterError

__all__ = ["code_challenge", "new_code_verifier", "validate_code_verifier"]

_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
CHALLENGE_METHOD = "S256"


def new_code_verifier(length: int = 64) -> str:
    """A fresh verifier of ``length`` (43-128) characters of ``[A-Za-z0-9-._~]``."""
    if not 43 <= length <= 128:
        raise InvalidParameterError("a PKCE verifier is 43 to 128 characters long")
    # token_urlsafe gives [A-Za-z0-9_-]: a subset of the allowed alphabet.
    return secrets.token_urlsafe(length)[:length]


def validate_code_verifier(verifier: str) -> str:
    """Return ``verifier`` if it is a valid RFC 7636 verifier, else raise."""
    if not isinstance(verifier, str) or _VERIFIER.fullmatch(verifier) is None:
        raise InvalidParameterError(
            "a PKCE code_verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~"
        )
    return verifier


def code_challenge(verifier: str) -> str:
    """base64url(SHA-256(verifier)) without padding: the S256 challenge."""
    digest = hashlib.sha256(validate_code_verifier(verifier).encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
