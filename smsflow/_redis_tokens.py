"""A token store in Redis, with single flight across processes (``pip install smsflow[redis]``).

* ``load``/``save``/``delete`` keep one token per account in one Redis key (expiring with the
  token); ``delete`` removes it only if it still holds the refused token (a Lua compare-and-
  delete), so a newer token stored by another process survives.
* **Single flight.** Before a client fetches a token it calls :meth:`begin_fetch`: one process
  wins a lock (``SET NX PX``, expiring after ``lock_s`` in case its holder dies) and fetches;
  the others poll the store every ``poll_s`` for the winner's token and use it. If the lock is
  released without a token (the fetch failed), the next waiter takes the lock: fetches follow
  each other, never a storm. A waiter gives up after ``wait_s`` with a retryable
  ``SmsFlowNetworkError`` (code ``TOKEN_WAIT_TIMEOUT``), made before anything was sent.

The token is a secret: the Redis key holds it in clear, so protect Redis like the client
secret (ACL, TLS ``rediss://``, no public port). ``repr`` never shows it.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from typing import Any, Final

from ._errors import SmsFlowNetworkError
from ._redis_common import redis_client
from ._tokens import Token

__all__ = ["RedisTokenStore"]

_DELETE_IF_EQUAL: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisTokenStore:
    """Tokens in Redis, shared by every process and machine of an account.

    Args:
        redis: A ``redis.Redis`` client, or a URL such as ``"redis://127.0.0.1:6379/0"``.
        prefix: Prepended to the Redis keys (default ``"smsflow:token:"``).
        lock_s: Seconds the fetch lock lives if its holder dies (keep it above the token
            call's timeout).
        wait_s: Longest wait (s) for another process's fetch before giving up.
        poll_s: How often (s) waiters look for the winner's token.
        clock: Seconds since the epoch (for the Redis expiry of a stored token).
        sleep: How waiters wait between polls (injectable).
        monotonic: A monotonic clock for the bounded wait (injectable).

    Raises:
        SmsFlowValidationError: redis-py is missing (``MISSING_EXTRA``) or a bad ``redis``.
    """

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str = "smsflow:token:",
        lock_s: float = 30.0,
        wait_s: float = 30.0,
        poll_s: float = 0.02,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis_client(redis)
        self._prefix = prefix
        self._lock_ms = max(1, math.ceil(lock_s * 1000))
        self._wait_s = wait_s
        self._poll_s = poll_s
        self._clock = clock
        self._sleep = sleep
        self._monotonic = monotonic
        self._delete_if_equal = self._redis.register_script(_DELETE_IF_EQUAL)
        self.waits = 0  # fetches this store avoided by waiting for another process's token

    def __repr__(self) -> str:
        return f"RedisTokenStore(prefix={self._prefix!r})"

    def load(self, key: str) -> Token | None:
        """The stored token for ``key``, or ``None`` (also when unreadable)."""
        raw = self._redis.get(self._prefix + key)
        if raw is None:
            return None
        return Token.from_json(raw.decode("utf-8", errors="replace"))

    def save(self, key: str, token: Token) -> None:
        """Store ``token`` for ``key`` until it expires."""
        seconds = math.ceil(token.expires_at - self._clock())
        if seconds > 0:
            self._redis.set(self._prefix + key, token.to_json(), ex=seconds)

    def delete(self, key: str, token: Token) -> None:
        """Forget ``token`` if it is still the one stored for ``key``."""
        self._delete_if_equal(keys=[self._prefix + key], args=[token.to_json()])

    def begin_fetch(
        self, key: str, usable: Callable[[Token], bool]
    ) -> tuple[str | None, Token | None]:
        """Win the fetch lock, or wait for the winner's token.

        Returns:
            ``(lock_id, None)``: you won; fetch, store, then :meth:`end_fetch`.
            ``(None, token)``: another process stored a usable token meanwhile.

        Raises:
            SmsFlowNetworkError: ``TOKEN_WAIT_TIMEOUT`` after ``wait_s`` (nothing was sent).
        """
        lock = self._prefix + key + ":fetching"
        lock_id = secrets.token_hex(8)
        give_up = self._monotonic() + self._wait_s
        while True:
            if self._redis.set(lock, lock_id, nx=True, px=self._lock_ms):
                token = self.load(key)  # stored between our miss and our lock?
                if token is not None and usable(token):
                    self.end_fetch(key, lock_id)
                    return None, token
                return lock_id, None
            token = self.load(key)
            if token is not None and usable(token):
                self.waits += 1
                return None, token
            if self._monotonic() >= give_up:
                error = SmsFlowNetworkError(
                    f"waited {self._wait_s:g} s for another process's token fetch",
                    code="TOKEN_WAIT_TIMEOUT",
                    retryable=True,
                    before_request=True,
                )
                raise error
            self._sleep(self._poll_s)

    def end_fetch(self, key: str, lock_id: str) -> None:
        """Release the fetch lock taken by :meth:`begin_fetch` (if still ours)."""
        self._delete_if_equal(keys=[self._prefix + key + ":fetching"], args=[lock_id])
