"""Who may call the sandbox: HTTP Basic credentials for a token, bearer tokens for the rest.

* 401 ``AUTHENTICATION_FAILED`` (with ``WWW-Authenticate: Basic``) for missing or wrong Basic
  credentials on the token endpoint;
* 401 ``INVALID_TOKEN`` (with ``WWW-Authenticate: Bearer``) for a missing, unknown, expired or
  revoked bearer token elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable, Mapping
from typing import Final

from ._replies import SandboxReply, error_reply

__all__ = ["TokenBook", "basic_matches", "bad_credentials", "bearer_problem"]

_MAX_LIVE_TOKENS: Final = 1024


def basic_matches(headers: Mapping[str, str], client_id: str, client_secret: str) -> bool:
    """Whether ``Authorization`` (in lower-cased ``headers``) is Basic with these credentials."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    given: bytes | None = None
    if scheme.lower() == "basic":
        try:
            given = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            given = None
    expected = f"{client_id}:{client_secret}".encode()
    return given is not None and secrets.compare_digest(given, expected)


def bad_credentials() -> SandboxReply:
    """The token endpoint's answer to wrong or missing credentials."""
    return error_reply(
        401,
        "AUTHENTICATION_FAILED",
        "Invalid client credentials.",
        headers={"WWW-Authenticate": 'Basic realm="SMSFlow"'},
    )


class TokenBook:
    """The live bearer tokens and when each expires. Not thread-safe: the sandbox locks.

    Args:
        factory: Makes the n-th token (n counts from 1); ``None``: random URL-safe tokens.
    """

    def __init__(self, factory: Callable[[int], str] | None = None) -> None:
        self._factory = factory
        self._made = 0
        self._tokens: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._tokens)

    def issue(self, now: float, lifetime_s: float, value: str | None = None) -> str:
        """A new token valid until ``now + lifetime_s`` (seconds); ``value`` to choose it.

        At most about 1024 live tokens are kept: expired ones are forgotten first.
        """
        if len(self._tokens) >= _MAX_LIVE_TOKENS:
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
        if value is None:
            if self._factory is None:
                value = secrets.token_urlsafe(32)
            else:
                self._made += 1
                value = self._factory(self._made)
        self._tokens[value] = now + lifetime_s
        return value

    def expires_at(self, token: str) -> float | None:
        """When ``token`` expires (seconds), or ``None`` if it is unknown or revoked."""
        return self._tokens.get(token)

    def revoke_all(self) -> None:
        """Forget every token."""
        self._tokens.clear()


def bearer_problem(
    headers: Mapping[str, str], expires_at: Callable[[str], float | None], now: Callable[[], float]
) -> SandboxReply | None:
    """``None`` if the request carries a live bearer token, else the 401 to answer.

    Args:
        headers: Lower-cased request headers.
        expires_at: When a token expires, or ``None`` if unknown (takes the sandbox's lock).
        now: The sandbox's clock.
    """
    scheme, _, value = headers.get("authorization", "").partition(" ")
    token = value.strip()
    if scheme.lower() != "bearer" or not token:
        message = "A bearer token is required."
    else:
        expiry = expires_at(token)
        if expiry is None:
            message = "The token is unknown or was revoked."
        elif now() >= expiry:
            message = "The token has expired."
        else:
            return None
    return error_reply(
        401, "INVALID_TOKEN", message, headers={"WWW-Authenticate": 'Bearer realm="SMSFlow"'}
    )
