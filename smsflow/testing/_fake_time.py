"""The switch that makes every smsflow client in a test wait on a fake clock.

::

    from smsflow.testing import fake_time

    with fake_time() as clock:          # or the pytest fixture `smsflow_fake_time`
        app_client = SmsFlowClient(..., retry_retries=2)
        app_client.get_balance()        # a 429 with Retry-After: 3 returns at once
    assert clock.slept == [3.0]

While it is on, clients that were not given their own ``sleep=``/``clock=`` (created before
or during the block) sleep on the fake clock: retries, ``Retry-After`` waits and the bulk
rate gate take no real time, and the clock moves on by what they waited. Token expiry reads
the same fake clock. It is process-wide (like ``stamina.set_testing``): do not run it in
tests that run concurrently in threads of one process.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from smsflow._waits import FakeTime, install

__all__ = ["FakeTime", "fake_time"]


@contextlib.contextmanager
def fake_time(start: float | None = None) -> Iterator[FakeTime]:
    """Install a :class:`FakeTime` (starting at ``start``, default the real time) for the
    block; the previous clock is restored after it."""
    fake = FakeTime(now=time.time() if start is None else start)
    previous = install(fake)
    try:
        yield fake
    finally:
        install(previous)
