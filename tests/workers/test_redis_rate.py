"""RedisRateLimit (GCRA) on a real redis-server: the booking arithmetic on an injected clock,
and 4 processes together staying under the account's messages per second."""

from __future__ import annotations

import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from smsflow import RedisRateLimit, SmsFlowClient, SmsFlowValidationError
from smsflow.testing import Sandbox, SandboxServer

HERE = Path(__file__).parent


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_bookings_follow_each_other_at_the_rate(redis_url: str) -> None:
    """At 10 messages/s, burst 1: bookings of 5, 5, 10 wait 0, 0.5 and 1.0 s; after a quiet
    spell the next one starts at once. Two limits on one name share one schedule."""
    clock = Clock()
    one = RedisRateLimit(redis_url, 10, clock=clock)
    two = RedisRateLimit(redis_url, 10, clock=clock)
    assert [0.0, 0.5, 1.0] == [
        pytest.approx(w) for w in (one.reserve(5), two.reserve(5), one.reserve(10))
    ]
    clock.now += 10
    assert 0.0 == two.reserve(1)


def test_a_burst_starts_at_once_then_the_rate_holds(redis_url: str) -> None:
    """burst=3 at 1 message/s: three single messages start at once, the fourth waits 1 s."""
    limit = RedisRateLimit(redis_url, 1, burst=3, clock=Clock())
    assert [0.0, 0.0, 0.0, 1.0] == [pytest.approx(limit.reserve(1)) for _ in range(4)]


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf"), "5", True])
def test_a_bad_rate_is_refused(redis_url: str, rate: Any) -> None:
    """messages_per_second must be a finite number > 0."""
    with pytest.raises(SmsFlowValidationError):
        RedisRateLimit(redis_url, rate)


def test_a_client_refuses_a_rate_limit_without_reserve() -> None:
    """rate_limit= must have reserve(messages)."""
    with pytest.raises(SmsFlowValidationError):
        SmsFlowClient("id", "secret", rate_limit="100/s")  # type: ignore[arg-type]


def _path() -> None:
    sys.path.insert(0, str(HERE))


def _rated(*args: Any) -> Any:
    from racers import rated_sends

    return rated_sends(*args)


def test_four_processes_together_stay_under_the_account_rate(redis_url: str) -> None:
    """4 processes x 30 one-message sends under one 40 messages/s limit: the sandbox sees at
    most 40 (+1 booking, + arrival jitter of 2) messages in any 1 s window, and 120 in all."""
    rate = 40.0
    sandbox = Sandbox(record_messages=False)
    context = multiprocessing.get_context("spawn")
    with SandboxServer(sandbox) as server, context.Pool(4, initializer=_path) as pool:
        start_at = time.time() + 3.0
        jobs = [
            pool.apply_async(_rated, (redis_url, server.url, 30, rate, start_at)) for _ in range(4)
        ]
        assert [30] * 4 == [job.get(timeout=60) for job in jobs]
    times = sorted(event.time for event in sandbox.events)
    assert 120 == len(times)
    busiest = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
    assert busiest <= rate + 3
    assert times[-1] - times[0] >= (120 - 1) / rate - 0.1


def test_bulk_runs_share_the_limit_too(redis_url: str) -> None:
    """Two send_bulk runs at once (two clients, as two workers would), 150 messages each in
    batches of 10, under one 100 messages/s RedisRateLimit: together they take about 2.9 s
    (0.2 s without it), and the busiest second at the API holds at most 100 + one batch
    (+ jitter of one batch)."""
    import threading

    sandbox = Sandbox(record_messages=False)
    limit_url = redis_url
    done: list[int] = []

    def one(server_url: str, offset: int) -> None:
        limit = RedisRateLimit(limit_url, 100)
        items = [
            {"destination": f"2782{i:07d}", "content": f"m{i}"} for i in range(offset, offset + 150)
        ]
        with (
            SmsFlowClient(
                "sandbox-client", "sandbox-secret", base_url=server_url, rate_limit=limit
            ) as client,
            client.send_bulk("Rated", items, batch_size=10) as run,
        ):
            done.append(sum(o.status == "sent" for o in run))

    with SandboxServer(sandbox) as server:
        threads = [threading.Thread(target=one, args=(server.url, k * 1000)) for k in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert [150, 150] == done
    events = sorted((event.time, event.messages) for event in sandbox.events)
    assert events[-1][0] - events[0][0] >= 2.7  # 2.9 s of slots, less arrival jitter
    busiest = max(
        sum(n for t, n in events[i:] if t < start + 1.0) for i, (start, _) in enumerate(events)
    )
    assert busiest <= 100 + 20
