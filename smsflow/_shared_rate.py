"""The protocol of a rate limit shared by many processes (see ``_redis_rate.py``)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["SharedRateLimit"]


@runtime_checkable
class SharedRateLimit(Protocol):
    """A messages-per-second limit shared by every process of an account.

    ``reserve(messages)`` books a send slot for ``messages`` messages and returns the seconds
    to wait before sending (0.0: send now). A booked slot is used: the caller waits, then
    sends. Implementations must be thread-safe.
    """

    def reserve(self, messages: int) -> float:
        """Book a slot for ``messages`` messages; seconds to wait before sending."""
        ...
