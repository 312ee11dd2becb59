"""A messages-per-second limit shared by every process of an account, in Redis (GCRA).

The generic cell rate algorithm keeps one number per account in Redis: the *theoretical
arrival time* (TAT) of the next message. Booking ``n`` messages moves it ``n / rate`` seconds
on; the booking may start once the TAT, less the burst allowance, has been reached. One Lua
script does the read-decide-write atomically, so N workers together stay under ``rate``: in
any window of ``w`` seconds at most ``rate * w + burst`` messages (plus one booking) start.
redis-py is imported when the limit is created (``pip install smsflow[redis]``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Final

from ._errors import SmsFlowValidationError
from ._redis_common import redis_client

__all__ = ["RedisRateLimit"]

_GCRA: Final = """
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
local increment = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
if tat < now then tat = now end
local start = tat - tolerance
if start < now then start = now end
local new_tat = tat + increment
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX',
           math.ceil((new_tat - now) * 1000) + 1000)
return string.format('%.6f', start - now)
"""


class RedisRateLimit:
    """At most ``messages_per_second`` messages per second across every process sharing
    ``name`` on one Redis. Give it to a client: ``SmsFlowClient(rate_limit=...)``.

    Args:
        redis: A ``redis.Redis`` client, or a URL such as ``"redis://127.0.0.1:6379/0"``.
        messages_per_second: The account's limit (messages, not requests), > 0.
        burst: Messages that may start at once after a quiet spell (default 1).
        name: The Redis key (one per account).
        clock: Seconds since the epoch (injectable); processes must share a synced clock.

    Raises:
        SmsFlowValidationError: an invalid setting, or redis-py is missing (``MISSING_EXTRA``).
    """

    def __init__(
        self,
        redis: Any,
        messages_per_second: float,
        *,
        burst: int = 1,
        name: str = "smsflow:rate",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (
            isinstance(messages_per_second, bool)
            or not isinstance(messages_per_second, int | float)
            or not math.isfinite(messages_per_second)
            or messages_per_second <= 0
        ):
            raise SmsFlowValidationError(
                "messages_per_second must be a number > 0", code="INVALID_SETTING"
            )
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise SmsFlowValidationError("burst must be an int >= 1", code="INVALID_SETTING")
        self.messages_per_second = float(messages_per_second)
        self.burst = burst
        self.name = name
        self._clock = clock
        self._redis = redis_client(redis)
        self._script = self._redis.register_script(_GCRA)

    def __repr__(self) -> str:
        return (
            f"RedisRateLimit(messages_per_second={self.messages_per_second!r}, "
            f"burst={self.burst!r}, name={self.name!r})"
        )

    def reserve(self, messages: int) -> float:
        """Book a slot for ``messages`` messages; return the seconds to wait before sending.

        Raises:
            redis.exceptions.RedisError: Redis cannot be reached.
        """
        rate = self.messages_per_second
        wait = self._script(
            keys=[self.name],
            args=[repr(self._clock()), repr(messages / rate), repr((self.burst - 1) / rate)],
        )
        return max(0.0, float(wait))
