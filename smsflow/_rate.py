"""The gate every batch of one bulk run passes before it is sent. Decisions only, no sleeping.

Two limits, shared by all the batches (threads or tasks) of a run:

* **A pause.** A ``429 Too Many Requests`` (or any answer with ``Retry-After``) pauses the whole
  run, not just the batch that got it: :meth:`RateGate.pause` holds every batch back until the
  pause is over. Pauses only ever get longer (a shorter ``Retry-After`` never cuts one short).
* **A ceiling** (optional): at most ``messages_per_second`` messages per second, on average.
  Each batch reserves a send time; a batch of ``n`` messages holds the next slot back by
  ``n / messages_per_second`` seconds (a token bucket whose burst is one batch). After a pause
  the batches start again one slot apart instead of all at once.

:meth:`RateGate.reserve` and :meth:`RateGate.pause_left` return seconds to wait; the caller
waits with its own (injected) sleep and asks again, so the gate works for threads and asyncio
alike and tests never really sleep. Times come from an injectable ``clock`` (seconds;
``time.monotonic`` by default). The gate is per process: workers of a task queue each have
their own (see the README's bulk section).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["RateGate"]


class RateGate:
    """A shared pause plus an optional messages-per-second ceiling. Thread-safe.

    Args:
        messages_per_second: The ceiling (messages, not requests, per second), or ``None``
            for none; already checked by ``BulkSettings`` (a finite number > 0).
        clock: Seconds from any fixed origin (monotonic); injectable for tests.
    """

    def __init__(
        self,
        messages_per_second: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.messages_per_second = messages_per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._paused_until = -math.inf
        self._next_slot = -math.inf

    def __repr__(self) -> str:
        return f"RateGate(messages_per_second={self.messages_per_second!r})"

    def pause(self, seconds: float) -> None:
        """Hold every batch back for ``seconds`` from now (a pause already longer is kept)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def pause_left(self) -> float:
        """Seconds until the current pause is over (0.0 when there is none)."""
        with self._lock:
            return max(0.0, self._paused_until - self._clock())

    def reserve(self, messages: int) -> float:
        """Reserve the next send slot for ``messages`` messages; return the seconds to wait.

        Without a ceiling this is just :meth:`pause_left`. With one, slots follow each other
        ``messages / messages_per_second`` seconds apart and never start inside a pause.
        After waiting, check :meth:`pause_left` again: a pause may have begun meanwhile.
        """
        with self._lock:
            now = self._clock()
            start = max(now, self._paused_until)
            if self.messages_per_second is not None:
                start = max(start, self._next_slot)
                self._next_slot = start + messages / self.messages_per_second
            return start - now
