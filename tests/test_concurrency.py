"""Concurrency over real sockets: many threads or tasks on one client, against the loopback
SandboxServer (``smsflow.testing``), counted by the server.

* One fresh client, many concurrent callers: the server sees exactly one token request.
* 1,000 messages from 50 tasks, and 1,000 from 16 threads: each accepted exactly once, every
  event id distinct, one token request per client.
* Pool limits and per-call timeouts act on real connections.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import Any, TypeVar

import httpx
import pytest
from contract.observer import ContractObserver

from smsflow import (
    AsyncSmsFlowClient,
    SmsFlowClient,
    SmsFlowDeliveryUnknownError,
    SmsFlowNetworkError,
)
from smsflow.testing import Sandbox, SandboxReply, SandboxServer

THREADS = 16
CALLS_PER_THREAD = 50
TASKS = 500
MESSAGES = 1000
SENDING_TASKS = 50
T = TypeVar("T")


@pytest.fixture
def sandbox(contract_observer: ContractObserver) -> Sandbox:
    """A sandbox with credit for a few thousand messages.

    The spec check of ``tests/conftest.py`` costs ~10 ms per exchange, which would make these
    runs of thousands of identical exchanges far too slow: it sees a sample here instead (the
    first 20 exchanges, then every 100th), and still fails the test on any violation.
    """
    sandbox = Sandbox(balance=100_000.0)
    sandbox.remove_observer(contract_observer)
    numbers = itertools.count()

    def sampled(
        method: str, path: str, headers: Mapping[str, str], body: bytes, reply: SandboxReply
    ) -> None:
        number = next(numbers)  # atomic: the server calls this from many threads
        if number < 20 or number % 100 == 0:
            contract_observer(method, path, headers, body, reply)

    sandbox.add_observer(sampled)
    return sandbox


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[SandboxServer]:
    """The sandbox served on a free loopback port."""
    with SandboxServer(sandbox) as running:
        yield running


def sync_client(sandbox: Sandbox, server: SandboxServer, **options: Any) -> SmsFlowClient:
    """A sync client (its own pool) on the loopback server."""
    return SmsFlowClient(sandbox.client_id, sandbox.client_secret, server.url, **options)


def async_client(sandbox: Sandbox, server: SandboxServer, **options: Any) -> AsyncSmsFlowClient:
    """An async client (its own pool) on the loopback server."""
    return AsyncSmsFlowClient(sandbox.client_id, sandbox.client_secret, server.url, **options)


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run a test's coroutine, failing (not hanging) if it is stuck for 20 s."""
    return asyncio.run(asyncio.wait_for(main, 20))


def in_threads(count: int, work: Callable[[int], object]) -> list[BaseException]:
    """Run ``work(i)`` in ``count`` threads released together; return what they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def worker(index: int) -> None:
        start.wait(5)
        try:
            work(index)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's assert
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def message(index: int) -> dict[str, str]:
    """A distinct message: a Vodacom destination and a numbered text."""
    return {"destination": f"2782{index:07d}", "content": f"Concurrency test message {index}"}


def pairs(count: int) -> list[tuple[str, str]]:
    """The (destination, content) pairs of the first ``count`` messages."""
    return [(m["destination"], m["content"]) for m in map(message, range(count))]


# -- single flight, counted by the server ---------------------------------------------------


def test_sixteen_threads_on_a_fresh_client_make_one_token_request(
    sandbox: Sandbox, server: SandboxServer
) -> None:
    """16 threads x 50 calls on one new sync client: the server sees one token request."""
    with sync_client(sandbox, server) as client:

        def calls(_: int) -> None:
            for _ in range(CALLS_PER_THREAD):
                client.get_balance()

        assert in_threads(THREADS, calls) == []
    assert sandbox.token_requests == 1
    balance_calls = [r for r in sandbox.requests if r.endpoint == "balance"]
    assert len(balance_calls) == THREADS * CALLS_PER_THREAD
    assert all(r.status == 200 for r in balance_calls)


def test_five_hundred_tasks_on_a_fresh_client_make_one_token_request(
    sandbox: Sandbox, server: SandboxServer
) -> None:
    """500 concurrent tasks on one new async client: the server sees one token request."""

    async def main() -> int:
        async with async_client(sandbox, server) as client:
            results = await asyncio.gather(*(client.get_balance() for _ in range(TASKS)))
            return len(results)

    assert run(main()) == TASKS
    assert sandbox.token_requests == 1
    assert sum(r.endpoint == "balance" and r.status == 200 for r in sandbox.requests) == TASKS


# -- 1,000 messages --------------------------------------------------------------------------


def test_thousand_messages_from_fifty_tasks(sandbox: Sandbox, server: SandboxServer) -> None:
    """50 tasks send 1,000 messages on one async client: each accepted once, event ids
    unique, one token request."""
    per_task = MESSAGES // SENDING_TASKS

    async def sender(client: AsyncSmsFlowClient, task: int) -> list[int]:
        ids = []
        for index in range(task * per_task, (task + 1) * per_task):
            result = await client.send_sms("Async load", [message(index)])
            ids.append(result.event_id)
        return ids

    async def main() -> list[int]:
        async with async_client(sandbox, server) as client:
            batches = await asyncio.gather(*(sender(client, t) for t in range(SENDING_TASKS)))
            assert client.token_requests == 1
        return [event_id for batch in batches for event_id in batch]

    event_ids = run(main())
    assert len(set(event_ids)) == MESSAGES
    sandbox.assert_each_accepted_once(pairs(MESSAGES))
    assert sorted(event_ids) == sorted(e.event_id for e in sandbox.events)
    assert (sandbox.token_requests, sandbox.send_count) == (1, MESSAGES)


def test_thousand_messages_from_sixteen_threads(sandbox: Sandbox, server: SandboxServer) -> None:
    """16 threads send 1,000 messages on one sync client: each accepted once, event ids
    unique, one token request."""
    event_ids: list[int] = []
    lock = threading.Lock()
    with sync_client(sandbox, server) as client:

        def sender(thread: int) -> None:
            for index in range(thread, MESSAGES, THREADS):
                result = client.send_sms("Threaded load", [message(index)])
                with lock:
                    event_ids.append(result.event_id)

        assert in_threads(THREADS, sender) == []
        assert client.token_requests == 1
    assert len(set(event_ids)) == MESSAGES
    sandbox.assert_each_accepted_once(pairs(MESSAGES))
    assert sorted(event_ids) == sorted(e.event_id for e in sandbox.events)
    assert (sandbox.token_requests, sandbox.send_count) == (1, MESSAGES)


# -- connections and timeouts on real sockets ------------------------------------------------


def test_connection_limit_is_applied(sandbox: Sandbox, server: SandboxServer) -> None:
    """With limits=max_connections=1, a second call waits for the one connection; past the
    pool timeout it fails as not sent (CONNECT_FAILED), while the first call completes."""
    sandbox.delay_next(1, seconds=0.5, endpoint="balance")
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    timeout = httpx.Timeout(5.0, pool=0.1)

    async def main() -> tuple[float, BaseException | None]:
        async with async_client(sandbox, server, limits=limits, timeout=timeout) as client:
            await client.authenticate()
            slow = asyncio.create_task(client.get_balance())
            await asyncio.sleep(0.05)  # the slow call now holds the only connection
            try:
                await client.get_balance()
            except SmsFlowNetworkError as exc:
                refused: BaseException | None = exc
            else:
                refused = None
            return (await slow).balance, refused

    balance, refused = run(main())
    assert balance == sandbox.balance
    assert isinstance(refused, SmsFlowNetworkError)
    assert (refused.code, refused.retryable) == ("CONNECT_FAILED", True)
    assert sum(r.endpoint == "balance" for r in sandbox.requests) == 1


def test_per_call_timeout_fires_on_a_slow_answer(sandbox: Sandbox, server: SandboxServer) -> None:
    """A slow answer past timeout= ends the call: a timed-out balance is a retryable network
    error; a timed-out send is SmsFlowDeliveryUnknownError (the server did accept it). The
    client works normally afterwards."""

    async def main() -> list[str]:
        outcomes = []
        async with async_client(sandbox, server) as client:
            await client.authenticate()
            sandbox.delay_next(2, seconds=0.6, endpoint=None)
            try:
                await client.get_balance(timeout=0.15)
            except SmsFlowNetworkError as exc:
                outcomes.append(f"{type(exc).__name__} {exc.code} {exc.retryable}")
            try:
                await client.send_sms("Slow", [message(1)], timeout=0.15)
            except SmsFlowDeliveryUnknownError as exc:
                outcomes.append(f"{type(exc).__name__} {exc.code} {exc.outcome_unknown}")
            outcomes.append(str((await client.get_balance()).balance))
        return outcomes

    assert run(main()) == [
        "SmsFlowNetworkError TIMEOUT True",
        "SmsFlowDeliveryUnknownError DELIVERY_UNKNOWN True",
        str(sandbox.balance),
    ]
    assert sandbox.accepted_times(*pairs(2)[1]) == 1
