"""Each call's response, request and body are freed when the call returns, not at the next
garbage collection: httpx leaves a response and its stream in a reference cycle, and under a
steady stream of 1,000-message sends the bodies waiting for the collector add up to megabytes
(benchmarks/run.py, the peak memory rows)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.helpers import FakeApi, fake_api

MESSAGES = [{"destination": f"2782{i:07d}", "content": f"Order {i} shipped."} for i in range(50)]


@pytest.fixture
def api() -> Iterator[FakeApi]:
    """The sandbox behind a transport, fresh for each test."""
    yield from fake_api()


@contextmanager
def left_for_the_collector() -> Iterator[list[str]]:
    """Fills the yielded list with the httpx responses and requests that the block left in
    reference cycles (found by a collection at its end, with the collector off inside)."""
    found: list[str] = []
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found += [
            type(item).__name__
            for item in gc.garbage
            if isinstance(item, httpx.Response | httpx.Request)
        ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_sync_calls_leave_no_response_for_the_collector(api: FakeApi) -> None:
    client = api.client()
    with left_for_the_collector() as first:
        client.get_balance()  # with the token fetch
    with left_for_the_collector() as sent:
        client.send_sms("Order dispatch alerts", MESSAGES)
    assert (first, sent) == ([], [])


def test_async_calls_leave_no_response_for_the_collector(api: FakeApi) -> None:
    async def main() -> tuple[list[str], list[str]]:
        async with api.async_client() as client:
            with left_for_the_collector() as first:
                await client.get_balance()
            with left_for_the_collector() as sent:
                await client.send_sms("Order dispatch alerts", MESSAGES)
        return first, sent

    assert asyncio.run(main()) == ([], [])
