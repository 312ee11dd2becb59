"""The clocks and sleeps clients use by default, and the one switch that fakes them in tests.

Clients created without ``sleep=``/``clock=`` wait through :func:`sleep` / :func:`async_sleep`
and read :func:`wall` (token expiry) and :func:`monotonic` (bulk rate gate). Normally these
are ``time.sleep``, ``asyncio.sleep``, ``time.time`` and ``time.monotonic``. While a
:class:`FakeTime` is installed (:func:`smsflow.testing.fake_time`, or the pytest fixture
``smsflow_fake_time``), every such client, whenever it was created, waits on that fake clock
instead: a retry after ``Retry-After: 3`` returns at once and the fake clock moves 3 s on.
Clients given their own ``sleep``/``clock`` keep them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

__all__ = ["FakeTime", "async_sleep", "install", "monotonic", "sleep", "wall"]


@dataclass
class FakeTime:
    """A clock that only moves when something sleeps on it (thread-safe).

    Attributes:
        now: Seconds on the fake wall clock (starts at the real time when installed).
        slept: Every wait, in seconds, in order.
    """

    now: float = 0.0
    slept: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sleep(self, seconds: float) -> None:
        """Advance the clock by ``seconds`` at once (negative waits count as 0)."""
        with self._lock:
            self.slept.append(seconds)
            self.now += max(0.0, seconds)

    @property
    def total_slept(self) -> float:
        """Seconds waited in all (on the fake clock)."""
        with self._lock:
            return sum(max(0.0, s) for s in self.slept)


_fake: FakeTime | None = None


def install(fake: FakeTime | None) -> FakeTime | None:
    """Make ``fake`` the clock of every default-clock client (``None``: real time again).

    Returns the one installed before, to restore it.
    """
    global _fake
    previous, _fake = _fake, fake
    return previous


def sleep(seconds: float) -> None:
    """``time.sleep``, or the fake clock's while one is installed."""
    fake = _fake
    if fake is None:
        time.sleep(seconds)
    else:
        fake.sleep(seconds)


async def async_sleep(seconds: float) -> None:
    """``asyncio.sleep``, or the fake clock's while one is installed (yields to the loop)."""
    import asyncio  # imported on first use: `import smsflow` stays light

    fake = _fake
    if fake is None:
        await asyncio.sleep(seconds)
    else:
        fake.sleep(seconds)
        await asyncio.sleep(0)


def wall() -> float:
    """Seconds since the epoch (``time.time``), or the fake clock's."""
    fake = _fake
    return time.time() if fake is None else fake.now


def monotonic() -> float:
    """Monotonic seconds (``time.monotonic``), or the fake clock's."""
    fake = _fake
    return time.monotonic() if fake is None else fake.now
