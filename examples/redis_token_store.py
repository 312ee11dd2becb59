"""Recipe: one SMSFlow token shared by every process that uses the same Redis.

Needs ``pip install redis`` and a Redis server. Use it as::

    import redis
    from smsflow import SmsFlowClient
    from redis_token_store import RedisTokenStore

    client = SmsFlowClient(token_store=RedisTokenStore(redis.Redis()))

Every worker process (Celery, RQ, gunicorn workers, several hosts) then uses one token instead
of each logging in. ``tests/test_recipes.py`` runs it against the sandbox with an in-memory
stand-in for Redis.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from smsflow import Token

_DELETE_IF_SAME = """if redis.call('GET', KEYS[1]) == ARGV[1]
then return redis.call('DEL', KEYS[1]) else return 0 end"""


class RedisLike(Protocol):
    """The three ``redis.Redis`` methods the store uses."""

    def get(self, name: str) -> bytes | None: ...
    def set(self, name: str, value: str, ex: int) -> Any: ...
    def eval(self, script: str, numkeys: int, *keys_and_args: str) -> Any: ...


class RedisTokenStore:
    """A :class:`smsflow.TokenStore` in Redis; keys expire with their token."""

    def __init__(self, client: RedisLike, prefix: str = "smsflow:token:") -> None:
        self.redis, self.prefix = client, prefix

    def load(self, key: str) -> Token | None:
        """The stored token, or None."""
        raw = self.redis.get(self.prefix + key)
        return Token.from_json(raw.decode()) if raw else None

    def save(self, key: str, token: Token) -> None:
        """Store ``token``; Redis drops it when it expires (seconds since the epoch)."""
        ttl = max(1, int(token.expires_at - time.time()))
        self.redis.set(self.prefix + key, token.to_json(), ex=ttl)

    def delete(self, key: str, token: Token) -> None:
        """Forget the stored token, atomically, only if it is still ``token``."""
        self.redis.eval(_DELETE_IF_SAME, 1, self.prefix + key, token.to_json())
