"""RedisTokenStore on a real redis-server: one token fetch across processes, waiters read the
winner's token, a bounded wait, and the shared-store revocation case (issue 11, item 1)."""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from smsflow import RedisTokenStore, SmsFlowNetworkError, Token
from smsflow.testing import Sandbox, SandboxServer

HERE = Path(__file__).parent


def _path() -> None:
    sys.path.insert(0, str(HERE))


def _first_call(*args: Any) -> Any:
    from racers import first_call

    return first_call(*args)


def _slow_tokens(seconds: float):
    def observer(method: str, path: str, *_: Any) -> None:
        if path.endswith("authentication"):
            time.sleep(seconds)

    return observer


def test_four_processes_starting_at_once_fetch_one_token(redis_url: str) -> None:
    """4 processes make their first call at the same moment, the token endpoint slow (0.3 s):
    one token request in all; the other three use the winner's token."""
    sandbox = Sandbox()
    sandbox.add_observer(_slow_tokens(0.3))
    context = multiprocessing.get_context("spawn")
    with SandboxServer(sandbox) as server, context.Pool(4, initializer=_path) as pool:
        start_at = time.time() + 3.0
        jobs = [pool.apply_async(_first_call, (redis_url, server.url, start_at)) for _ in range(4)]
        results = [job.get(timeout=60) for job in jobs]
    assert 1 == sandbox.token_requests
    assert [1000.0] * 4 == [balance for balance, _ in results]
    assert 1 == sum(fetches for _, fetches in results)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_revoked_tokens_cost_one_new_token_and_every_message_goes(
    redis_url: str, flavour: str
) -> None:
    """Issue 11, item 1, on RedisTokenStore (the scenario of
    tests/faults/test_shared_store_revocation.py): two clients share the store, the API
    revokes every token; one new token, one replay, a 1,000-message send_bulk sends all."""
    from faults.test_shared_store_revocation import COUNT, run_async, run_sync

    sandbox = Sandbox(balance=1e6, record_messages=False)
    store = RedisTokenStore(redis_url)
    result: Any = (
        run_sync(sandbox, store) if flavour == "sync" else asyncio.run(run_async(sandbox, store))
    )
    statuses, new_tokens, balance = result
    assert ({"sent": COUNT}, 1) == (dict(statuses), new_tokens)
    assert balance == sandbox.balance
    assert COUNT == sandbox.accepted_count


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_waiter_gives_up_after_its_bounded_wait(redis_url: str) -> None:
    """While another process holds the fetch lock and stores nothing, a waiter waits wait_s
    (no real sleep here), then raises a retryable TOKEN_WAIT_TIMEOUT without any request."""
    fake = FakeTime()
    store = RedisTokenStore(
        redis_url, wait_s=5.0, poll_s=0.5, sleep=fake.sleep, monotonic=fake.monotonic
    )
    other = RedisTokenStore(redis_url)
    lock, _ = other.begin_fetch("acct", lambda token: True)
    assert lock is not None
    with pytest.raises(SmsFlowNetworkError) as caught:
        store.begin_fetch("acct", lambda token: True)
    assert ("TOKEN_WAIT_TIMEOUT", True, 5.0) == (
        caught.value.code,
        caught.value.retryable,
        fake.now,
    )


def test_a_waiter_reads_the_winners_token_and_a_dead_winners_lock_expires(redis_url: str) -> None:
    """A waiter returns the token the winner stored; a lock whose holder died expires."""
    store = RedisTokenStore(redis_url, lock_s=0.2)
    token = Token(
        "tok-1", issued_at=time.time(), expires_at=time.time() + 600, refresh_at=time.time() + 300
    )
    lock, _ = store.begin_fetch("acct", lambda t: True)
    store.save("acct", token)
    assert (None, token) == RedisTokenStore(redis_url).begin_fetch("acct", lambda t: True)
    store.delete("acct", token)
    # the winner dies without releasing: its lock expires after lock_s (0.2 s)
    started = time.monotonic()
    lock2, found = RedisTokenStore(redis_url, poll_s=0.01).begin_fetch("acct", lambda t: True)
    assert (True, None) == (lock2 is not None and lock2 != lock, found)
    assert time.monotonic() - started < 2.0


def test_the_token_never_shows_and_expires_with_itself(redis_url: str) -> None:
    """repr shows no token; the Redis key expires when the token does."""
    store = RedisTokenStore(redis_url)
    now = time.time()
    store.save("acct", Token("secret-token", now, now + 120, now + 60))
    assert "secret-token" not in repr(store)
    ttl = redis.Redis.from_url(redis_url).ttl("smsflow:token:acct")
    assert 110 <= ttl <= 120
