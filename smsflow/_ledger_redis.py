"""The Redis idempotency ledger (``pip install smsflow[redis]``): shared by many machines.

Each key is one Redis string holding the entry's JSON, updated in a ``WATCH``/``MULTI``
transaction (optimistic: a concurrent change makes the transaction retry the decision), with
a Redis expiry a little after the entry's own ``expires_at`` so forgotten keys free memory.
redis-py is imported when the ledger is created, never by ``import smsflow``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ._ledger import DEFAULT_LEASE_S, DEFAULT_TTL_S, Change, Ledger, LedgerEntry
from ._redis_common import redis_client

__all__ = ["RedisLedger"]

_EXPIRY_SLACK_S = 60  # Redis forgets a key this long after the ledger does


class RedisLedger(Ledger):
    """An idempotency ledger in Redis.

    Args:
        redis: A ``redis.Redis`` client, or a URL such as ``"redis://127.0.0.1:6379/0"``.
        prefix: Prepended to every Redis key (default ``"smsflow:ledger:"``).
        ttl_s: Seconds a key is remembered (default 7 days).
        lease_s: Seconds an unsettled claim counts as in flight (default 300).
        clock: Seconds since the epoch (injectable for tests).

    Raises:
        SmsFlowValidationError: an invalid setting, or redis-py is not installed
            (code ``MISSING_EXTRA``: ``pip install smsflow[redis]``).
    """

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str = "smsflow:ledger:",
        ttl_s: float = DEFAULT_TTL_S,
        lease_s: float = DEFAULT_LEASE_S,
        clock: Callable[[], float] | None = None,
    ) -> None:
        extra: dict[str, Any] = {} if clock is None else {"clock": clock}
        super().__init__(ttl_s=ttl_s, lease_s=lease_s, **extra)
        self._redis = redis_client(redis)
        self._prefix = prefix

    def __repr__(self) -> str:
        return f"RedisLedger(prefix={self._prefix!r})"

    def _update(self, key: str, change: Change) -> None:
        from redis.exceptions import WatchError

        name = self._prefix + key
        with self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(name)
                    raw = pipe.get(name)
                    current = None if raw is None else LedgerEntry.from_json(raw)
                    new = change(current)
                    if new is current:
                        pipe.unwatch()
                        return
                    pipe.multi()
                    if new is None:
                        pipe.delete(name)
                    else:
                        seconds = max(1, math.ceil(new.expires_at - self.now()) + _EXPIRY_SLACK_S)
                        pipe.set(name, new.to_json(), ex=seconds)
                    pipe.execute()
                    return
                except WatchError:
                    continue

    def _read(self, key: str) -> LedgerEntry | None:
        raw = self._redis.get(self._prefix + key)
        return None if raw is None else LedgerEntry.from_json(raw)

    def close(self) -> None:
        """Close the connection pool (reopened on next use)."""
        self._redis.close()
