"""Getting a redis-py client for the Redis-backed stores, imported lazily (an extra)."""

from __future__ import annotations

from typing import Any

from ._errors import SmsFlowValidationError

__all__ = ["missing_extra", "redis_client"]


def missing_extra(extra: str, package: str) -> SmsFlowValidationError:
    """The error for an engine whose client library is not installed."""
    return SmsFlowValidationError(
        f"this needs {package}: pip install 'smsflow[{extra}]'", code="MISSING_EXTRA"
    )


def redis_client(redis: Any) -> Any:
    """``redis`` itself if it is a client, else a ``redis.Redis`` for the URL it is.

    Raises:
        SmsFlowValidationError: redis-py is missing (``MISSING_EXTRA``) or ``redis`` is
            neither a URL nor a client (``INVALID_SETTING``).
    """
    try:
        import redis as redis_py
    except ImportError:
        raise missing_extra("redis", "redis-py") from None
    if isinstance(redis, str):
        return redis_py.Redis.from_url(redis)
    if isinstance(redis, redis_py.Redis):
        return redis
    raise SmsFlowValidationError(
        "redis must be a redis.Redis client or a redis:// URL", code="INVALID_SETTING"
    )
